"""Large-step logistic regression becomes the perceptron (Tyurin 2024, arXiv 2412.08424)."""
