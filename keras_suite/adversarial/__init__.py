"""Adversarial examples: gradient attacks on an app's own loss, and how its metric falls with the budget."""
