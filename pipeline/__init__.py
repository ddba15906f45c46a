"""dispatch: transcribe dispatch radio recordings and check published quotes against them."""

__version__ = "0.1.0"
