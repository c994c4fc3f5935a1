"""SmetaBot: share estimates through Telegram so clients can read them and nothing else."""

__version__ = "0.1.0"
