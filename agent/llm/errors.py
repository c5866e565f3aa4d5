"""What a model call ends in when it cannot give an answer: the caller takes the no-LLM path."""


class LLMUnavailable(Exception):
    """The model could not give a usable answer now; the caller falls back to the no-LLM path."""


class DeadlinePassed(Exception):
    """No answer by the message's deadline (a hanging, trickling or slow endpoint)."""
