"""bentov's exceptions: one class per kind of error the engine reports.

Every exception carries the engine's one-line message (``str(e)``) and a hint for what to do
about it (``e.hint``, possibly empty), the same two parts the command line prints.

    Error
    ├── UsageError        an argument that makes no sense (both text and ids, an unknown layer)
    ├── FileError         a file or model that cannot be found, opened, read or written
    ├── InputError        bad text or ids: too few tokens, too many, ids out of range, no memory
    └── ModelError        the checkpoint itself
        ├── FormatError       a malformed or hostile file (safetensors, JSON, tokenizer files)
        ├── ConfigError       a config.json with missing or absurd values
        └── UnsupportedError  an architecture, dtype, tokenizer component or device bentov lacks
"""


class Error(Exception):
    """Base class of every error bentov raises."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self):
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UsageError(Error, ValueError):
    """An argument that makes no sense."""


class FileError(Error, OSError):
    """A file or model that cannot be found, opened, read or written."""

    def __init__(self, message, hint=""):
        Error.__init__(self, message, hint)

    def __str__(self):
        return Error.__str__(self)


class InputError(Error, ValueError):
    """Bad text or ids, or an input too large for the memory available."""


class ModelError(Error):
    """A checkpoint bentov cannot use."""


class FormatError(ModelError):
    """A malformed or hostile file."""


class ConfigError(ModelError):
    """A config.json with missing or absurd values."""


class UnsupportedError(ModelError):
    """Something bentov does not implement: an architecture, a dtype, a tokenizer component, a GPU."""


__all__ = ["Error", "UsageError", "FileError", "InputError", "ModelError", "FormatError", "ConfigError",
           "UnsupportedError"]
