"""Hyperparameter slots: every rule reads its hyperparameters from one row ``hyper[m, :]``.

Hyperparameters are data, not compile-time constants: one compiled kernel runs an ensemble whose
members differ in rule, learning rate, betas or weight decay. Each name below is one column;
a rule documents which columns it reads. New rules add columns here (never reuse one).
Booleans are 0.0 / 1.0; named choices are small integers (see the registry).
"""
LR = 0
MOMENTUM = 1
DAMPENING = 2
NESTEROV = 3
WEIGHT_DECAY = 4
BETA1 = 5
BETA2 = 6
EPS = 7
LR_DECAY = 8  # adagrad
INITIAL_ACCUMULATOR = 9  # adagrad
ALPHA = 10  # rmsprop smoothing constant
CENTERED = 11  # rmsprop
AMSGRAD = 12  # 0 off, 1 torch (max of raw v), 2 optax (max of bias-corrected v)
MOMENTUM_DECAY = 13  # nadam (torch psi)
DECOUPLED = 14  # adabelief weight_decouple
FIXED_DECAY = 15  # adabelief
RECTIFY = 16  # adabelief
DEGENERATED_TO_SGD = 17  # adabelief
DELTA = 18  # adamp / sgdp
WD_RATIO = 19  # adamp / sgdp
TRUST_COEFFICIENT = 20  # lars
CONVENTION = 21  # lars / lamb: 0 optax (= TF-Addons for LAMB), 1 pytorch-optimizer (kozistr)
NS_STEPS = 22  # muon
ADAM_LR = 23  # muon's AdamW for non-matrix blocks
ADAM_BETA1 = 24
ADAM_BETA2 = 25
ADAM_EPS = 26
ADAM_WD = 27
GAMMA = 28  # auon cosh scale; noisy_sgd annealing exponent
NOISE_ETA = 29  # noisy_sgd
GSNR_VERSION = 30  # sgd_sai: 0 = paper (std-based, max-normalised), 1 = v1.1.0 (sqrt(numel)), 2 = v1.0.3 (std-based)
CLIP_FRACTION = 31  # coordinate-wise clipping of the update: fraction of coordinates clipped
CLIP_VALUE = 32  # coordinate-wise clipping of the update: fixed threshold
STATE_BITS = 33  # 64 (float64 state) or 8 (block-wise dynamic quantisation)
DAMPED = 34  # newton: 1 = damped step 1 / (1 + lambda(x))
RIDGE = 35  # newton: H + ridge I
MAX_GRAD_NORM = 36  # every rule: rescale the gradient to this global 2-norm when larger (0 = off)
STATE_BLOCK = 38  # 8-bit state: entries per quantisation block (256: current bitsandbytes; 2048: the paper)
STATE_ROUNDING = 39  # 8-bit state: 0 nearest code (paper, bitsandbytes CUDA), 1 bitsandbytes' CPU LUT
PROJECT_MOMENTUM = 37  # sgdp: 1 = store the projected momentum (official code), 0 = the paper's Algorithm

N_SLOTS = 48  # room for more rules without changing kernel signatures

# torch-style keyword -> slot(s); a tuple-valued keyword (``betas``) fills consecutive slots.
KEYWORD_SLOTS: dict[str, tuple[int, ...]] = {
    "lr": (LR,),
    "momentum": (MOMENTUM,),
    "dampening": (DAMPENING,),
    "nesterov": (NESTEROV,),
    "weight_decay": (WEIGHT_DECAY,),
    "betas": (BETA1, BETA2),
    "eps": (EPS,),
    "lr_decay": (LR_DECAY,),
    "initial_accumulator_value": (INITIAL_ACCUMULATOR,),
    "alpha": (ALPHA,),
    "centered": (CENTERED,),
    "amsgrad": (AMSGRAD,),
    "momentum_decay": (MOMENTUM_DECAY,),
    "weight_decouple": (DECOUPLED,),
    "fixed_decay": (FIXED_DECAY,),
    "rectify": (RECTIFY,),
    "degenerated_to_sgd": (DEGENERATED_TO_SGD,),
    "delta": (DELTA,),
    "wd_ratio": (WD_RATIO,),
    "trust_coefficient": (TRUST_COEFFICIENT,),
    "convention": (CONVENTION,),
    "ns_steps": (NS_STEPS,),
    "adam_lr": (ADAM_LR,),
    "adam_betas": (ADAM_BETA1, ADAM_BETA2),
    "adam_eps": (ADAM_EPS,),
    "adam_weight_decay": (ADAM_WD,),
    "gamma": (GAMMA,),
    "eta": (NOISE_ETA,),
    "gsnr_version": (GSNR_VERSION,),
    "clip_fraction": (CLIP_FRACTION,),
    "clip_value": (CLIP_VALUE,),
    "state_bits": (STATE_BITS,),
    "damped": (DAMPED,),
    "ridge": (RIDGE,),
    "max_grad_norm": (MAX_GRAD_NORM,),
    "project_momentum": (PROJECT_MOMENTUM,),
    "state_block": (STATE_BLOCK,),
    "state_rounding": (STATE_ROUNDING,),
}
