"""The gettext marker of the pure core.

The core writes every text a person reads (findings, integrity flags, score notes) as an English
msgid with named placeholders and hands the parameters beside it; the shell renders it in the
reader's language (``fieldcheck.i18n.render``). The core itself never translates, so it stays
free of Flask and of any request.
"""


def N_(message: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts (babel.cfg)
    """Mark a msgid for extraction; it is stored with its parameters and rendered when read."""
    return message
