"""Hyperparameter slots: every rule reads its hyperparameters from one row ``hyper[m, :]``.

Hyperparameters are data, not compile-time constants: one compiled kernel runs an ensemble whose
members differ in rule, learning rate, betas or weight decay. Each name below is one column;
a rule documents which columns it reads. New rules add columns here (never reuse one).
"""
LR = 0
MOMENTUM = 1
DAMPENING = 2
NESTEROV = 3
WEIGHT_DECAY = 4
BETA1 = 5
BETA2 = 6
EPS = 7

N_SLOTS = 32  # room for the rest of the family without changing kernel signatures

# torch-style keyword -> slot(s); a tuple-valued keyword (``betas``) fills consecutive slots.
KEYWORD_SLOTS: dict[str, tuple[int, ...]] = {
    "lr": (LR,),
    "momentum": (MOMENTUM,),
    "dampening": (DAMPENING,),
    "nesterov": (NESTEROV,),
    "weight_decay": (WEIGHT_DECAY,),
    "betas": (BETA1, BETA2),
    "eps": (EPS,),
}
