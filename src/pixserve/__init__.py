"""pixserve: serve image-to-image neural networks as a web service that survives a crowd."""

__version__ = "0.1.0"

__all__ = ["__version__"]
