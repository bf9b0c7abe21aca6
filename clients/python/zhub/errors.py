"""What the client raises. Every error is a ZhubError; the three a caller
branches on are these:

- InvalidMessage: the message (or a command's argument) breaks the
  protocol's rules and was never sent. Fix the input; never retry it as is.
- Rejected: the broker refused it (ERROR 400 or 413). Same advice.
- NotConfirmed: no confirmation in time, or the broker could not store it
  (ERROR 503). The message may or may not be stored: publish it again with
  the same envelope id, the broker's dedup keeps one (PROTOCOL.md 5.3).
"""


class ZhubError(Exception):
    """Base of every error of this package."""


class InvalidMessage(ZhubError, ValueError):
    """Refused before sending: the reason names the rule."""


class CatalogueError(InvalidMessage):
    """The data or subject does not keep to the event catalogue
    (docs/events.md): the reason reads like the C check's."""


class Rejected(ZhubError):
    """The broker answered ERROR 400 or 413 (it will never accept this as
    it is), or 403 (this client's key may not do it: PROTOCOL.md 16)."""

    def __init__(self, code, reason):
        super().__init__("refused by the broker (%s): %s" % (code, reason))
        self.code = code
        self.reason = reason


class NotConfirmed(ZhubError):
    """No answer in time, or ERROR 503. Publishing again with the same id
    is safe."""


class VersionRefused(ZhubError):
    """The broker does not speak this client's protocol version (ERROR 426)."""
