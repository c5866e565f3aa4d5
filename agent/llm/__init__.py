"""The model side: prompts as data, providers, token budgets."""
