"""usertrail: PostHog events in, LLM-ready user context out."""

__version__ = "0.1.0"
