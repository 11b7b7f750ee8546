"""bentov: where a transformer's attention turns from local to global (the Bentov Point, L*).

    import bentov
    result = bentov.analyze(["EleutherAI/pythia-160m", "gpt2"], text="...")
    result.layers      # pandas DataFrame: model, revision, layer, locality, entropy, ...
    result.l_star      # L* empirical and L/2, deviation, estimators (and CIs in corpus runs)
    result.plot()      # the notebook's 2x2 figure

    stats = bentov.corpus("EleutherAI/pythia-160m", "texts.txt", bootstrap=1000)
    model = bentov.load("EleutherAI/pythia-160m")
    patterns = model.attention(text="Hello world")  # {"blocks.0.attn.hook_pattern": float32[head, q, k], ...}

The engine is bentov's C++ library (bentov._bentov), the same as the `bentov` command's: the
same numbers, the same JSON. It runs without the GIL; Ctrl-C stops a corpus between texts.
Errors are bentov.Error subclasses carrying the engine's message and a hint.
"""
from ._blas import choose_kernels as _choose_kernels

_choose_kernels()  # before the extension loads OpenBLAS

from . import _bentov  # noqa: E402
from ._api import NOTEBOOK_SENTENCE, Model, analyze, compare, corpus, demo_models, load, sweep
from ._progress import Progress
from .errors import (ConfigError, Error, FileError, FormatError, InputError, ModelError, UnsupportedError,
                     UsageError)
from .result import Comparison, Result

__version__ = _bentov.__version__


def cuda_available():
    """Whether this bentov was built with CUDA and sees a usable GPU."""
    return _bentov.cuda_compiled() and _bentov.cuda_device_count() > 0


__all__ = ["analyze", "corpus", "sweep", "compare", "load", "demo_models", "cuda_available", "Model", "Result",
           "Comparison", "Progress", "NOTEBOOK_SENTENCE", "Error", "UsageError", "FileError", "InputError",
           "ModelError", "FormatError", "ConfigError", "UnsupportedError", "__version__"]
