"""Custom actions of the government-services assistant, one module per service area."""

from bot.masking import install_log_masking

# The action server logs slot values and messages at debug level: mask them like every process.
install_log_masking()
