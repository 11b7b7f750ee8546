"""The functions of ``import bentov``: load, analyze, corpus, sweep, compare."""
import os

from . import _bentov
from ._progress import Progress
from .errors import UsageError
from .result import Comparison, Result

# The seed notebook's sentence: what analyze runs when given neither text nor ids, as the CLI.
NOTEBOOK_SENTENCE = ("The fundamental nature of reality is that all things are interconnected through "
                     "underlying mathematical structures.")


class Model:
    """A checkpoint loaded once: its tokenizer, its attention, its config.

    Made by :func:`bentov.load`. The weights are memory-mapped, so a Model costs little until
    it runs. Pass it to :func:`analyze`, :func:`corpus` or :func:`compare` like a name.
    """

    def __init__(self, native):
        self._native = native

    @property
    def name(self):
        """The name shown in tables: the folder's or id's last part, with ``@revision``."""
        return self._native.name

    @property
    def source(self):
        """The id as given (``EleutherAI/pythia-160m@step1000``) or the folder's absolute path."""
        return self._native.source

    @property
    def folder(self):
        """The folder holding config.json and the weights (a Hugging Face cache snapshot for an id)."""
        return self._native.folder

    @property
    def device(self):
        """Where this model's passes run by default: "cpu" or "cuda:N"."""
        return self._native.device

    @property
    def config(self):
        """The resolved configuration: architecture, n_layers, n_heads, hidden_size, dtype, ..."""
        return self._native.config()

    @property
    def n_layers(self):
        return self.config["n_layers"]

    @property
    def n_heads(self):
        return self.config["n_heads"]

    def tokenize(self, text):
        """The ids the model's tokenizer gives ``text``: ``AutoTokenizer(text)["input_ids"]``."""
        return self._native.tokenize(text)

    def str_tokens(self, text):
        """Each token of ``text`` as the tokenizer's decoder shows it alone (labels for plots and circuitsvis)."""
        return self._native.str_tokens(text)

    def decode(self, ids):
        """The text of ``ids`` through the tokenizer's decoder."""
        return self._native.decode(list(ids))

    def attention(self, text=None, ids=None, layers=None, threads=None):
        """Every head's attention probabilities, TransformerLens's names.

        Returns a dict ``{"blocks.{l}.attn.hook_pattern": numpy.ndarray}``, each array float32
        with shape ``(head, query, key)`` (causal: zero above the diagonal, rows sum to 1). The
        arrays own their memory (no copy was made) and stay valid after the model is gone.
        ``layers`` picks layers (negative counts from the end); all by default. Memory is
        layers x heads x n x n x 4 bytes: refused up front with an InputError when it does not fit.
        """
        text, ids = _input(text, ids)
        return self._native.attention(text, ids, None if layers is None else [int(l) for l in layers],
                                      _threads(threads))

    def analyze(self, text=None, ids=None, threads=None, progress=False):
        """:func:`bentov.analyze` of this model alone."""
        return analyze(self, text=text, ids=ids, threads=threads, progress=progress)

    def __repr__(self):
        c = self.config
        return (f"bentov.Model({self.name!r}: {c['architecture']}, {c['n_layers']} layers x {c['n_heads']} heads, "
                f"{c['dtype']}, on {self.device})")


def load(id_or_path, revision=None, offline=False, device="cpu"):
    """Loads a checkpoint: a folder, or a Hugging Face id found in the local cache (downloaded
    into it when missing, unless ``offline`` or ``HF_HUB_OFFLINE=1``).

    ``revision`` is a branch, tag or commit (``"step1000"``); ``device`` is "cpu", "cuda",
    "cuda:N" or "auto". Raises a :class:`bentov.Error` subclass with a hint on failure.
    """
    spec = os.fspath(id_or_path)
    if revision:
        if "@" in spec:
            raise UsageError(f"'{spec}' already names a revision", "give revision= or ID@REVISION, not both")
        spec = f"{spec}@{revision}"
    return Model(_bentov.Model(spec, bool(offline), device or "cpu"))


def demo_models():
    """The folders of the demo models shipped with bentov (gpt2-demo, opt-demo, pythia-demo)."""
    for root in _model_roots():
        if root and os.path.isdir(root):
            found = sorted(os.path.join(root, d) for d in os.listdir(root)
                           if os.path.isfile(os.path.join(root, d, "config.json")))
            if found:
                return found
    raise UsageError("no demo models found", "set BENTOV_MODELS_DIR, or name models explicitly")


def analyze(models=None, text=None, ids=None, threads=None, device=None, progress=True, loss=False, dtype=None,
            max_positions=None):
    """Runs one text through each model and returns a :class:`Result`.

    ``models``: a name, folder, :class:`Model` or a list of them; None analyzes the demo
    models. ``text`` or ``ids`` (a list of token ids, which bypasses the tokenizer); neither
    runs the notebook's sentence, as the CLI does. ``threads``: CPU workers (None: every core);
    the numbers do not depend on it. ``device``: "cpu", "cuda[:N]" or "auto" (None: the
    Model's own device, else cpu). ``progress``: a tqdm bar per model (False: silent, or a
    callable, see ``bentov.Progress``). ``loss``: each model's mean next-token cross-entropy
    through its output head (the JSON's "loss"; ``Result.l_star`` gains ``loss`` and
    ``perplexity``). ``dtype``: "fp32" (None: the exact mode), or on a GPU "bf16" / "fp16"
    products on tensor cores with float32 accumulation. ``max_positions``: let texts run to N
    tokens past a rotary model's max_position_embeddings (a UserWarning says so; a
    learned-position model refuses). The engine runs without the GIL.
    """
    specs, device = _specs(models, device)
    text, ids = _input(text, ids, default_sentence=True)
    with Progress(progress, len(specs)) as bar:
        out = _bentov.analyze(specs, text, ids, _threads(threads), _engine(device, dtype, max_positions), bar.on_model,
                              False, bool(loss))
    return Result.from_json(out)


def corpus(models=None, texts_or_file=None, bootstrap=1000, seed=0, max_tokens=None, max_texts=None,
           threads=None, device=None, progress=True, loss=False, dtype=None, max_positions=None):
    """Every text of a corpus through each model: per-layer means with 95% bootstrap CIs, the
    distribution of L* over texts and its CI, and L*/L tested against 1/2, as ``analyze --corpus``.

    ``texts_or_file``: a list of strings, or a file path (one text per line, or JSON Lines with
    a "text" field). ``bootstrap``: resamples B; ``seed``: their seed; ``max_tokens``: keep each
    text's first tokens; ``max_texts``: the first texts only. ``progress``: bars per model and per
    text. ``loss``: each text's next-token cross-entropy, and its mean over texts with a CI.
    ``dtype`` and ``max_positions`` as :func:`analyze`. On a GPU the texts share forward passes
    (packed side by side, no attention across them).
    Ctrl-C stops the run after the current text (KeyboardInterrupt); nothing is written.
    """
    if texts_or_file is None:
        raise UsageError("corpus needs texts or a file", "bentov.corpus(models, ['a text', 'another'])")
    specs, device = _specs(models, device)
    file, texts = _corpus_source(texts_or_file)
    with Progress(progress, len(specs)) as bar:
        out = _bentov.corpus(specs, file, texts, int(max_texts or 0), int(max_tokens or 0), int(bootstrap), int(seed),
                             _threads(threads), _engine(device, dtype, max_positions), bar.on_model, bar.on_text,
                             False, bool(loss))
    return Result.from_json(out)


def sweep(id_or_models, revisions=None, text=None, ids=None, threads=None, device=None, progress=True, loss=False,
          corpus=None, bootstrap=1000, seed=0, max_tokens=None, max_texts=None, dtype=None, max_positions=None):
    """One model over an ordered series of checkpoints: ``sweep("EleutherAI/pythia-160m",
    revisions=["step1000", "step143000"])`` or ``sweep([folder1, folder2, ...])``. Returns a
    :class:`Result` whose ``sweep`` holds the checkpoints and their L*, as ``bentov sweep``.

    With ``corpus`` (a list of texts or a file, as :func:`corpus` takes) each checkpoint gets
    its corpus statistics, and ``sweep["shifts"]`` the paired shift between consecutive
    checkpoints (L*, every per-layer metric and, with ``loss``, the loss: each with a paired
    bootstrap CI and a p-value); ``sweep["rank_correlation"]`` relates L*/L and loss.
    ``dtype`` and ``max_positions`` as :func:`analyze`.
    """
    if revisions is not None:
        if not isinstance(id_or_models, (str, os.PathLike)):
            raise UsageError("revisions= takes exactly one model", "sweep('EleutherAI/pythia-160m', revisions=[...])")
        base = os.fspath(id_or_models)
        specs = [f"{base}@{r}" for r in revisions]
        device = device or "cpu"
    else:
        specs, device = _specs(id_or_models, device)
    with Progress(progress, len(specs), desc="checkpoints") as bar:
        if corpus is not None:
            file, texts = _corpus_source(corpus)
            out = _bentov.sweep_corpus(specs, file, texts, int(max_texts or 0), int(max_tokens or 0), int(bootstrap),
                                       int(seed), _threads(threads), _engine(device, dtype, max_positions),
                                       bar.on_model, bool(loss))
        else:
            text, ids = _input(text, ids, default_sentence=True)
            out = _bentov.sweep(specs, text, ids, _threads(threads), _engine(device, dtype, max_positions),
                                bar.on_model, False, bool(loss))
    return Result.from_json(out)


def compare(a, b, text=None, ids=None, threads=None, device=None, progress=True, loss=False, corpus=None,
            bootstrap=1000, seed=0, max_tokens=None, max_texts=None, dtype=None, max_positions=None):
    """Two models of one shape layer by layer (B - A): per-layer and per-head differences and
    the shift in L*, as ``bentov compare``. With ``corpus``, ``Comparison.paired`` holds every
    shift with its paired bootstrap CI and p-value over the texts. ``dtype`` and ``max_positions``
    as :func:`analyze`. Returns a :class:`Comparison`."""
    (spec_a, spec_b), device = _specs([a, b], device)
    with Progress(progress, 2) as bar:
        if corpus is not None:
            file, texts = _corpus_source(corpus)
            out = _bentov.compare_corpus(spec_a, spec_b, file, texts, int(max_texts or 0), int(max_tokens or 0),
                                         int(bootstrap), int(seed), _threads(threads),
                                         _engine(device, dtype, max_positions), bar.on_model, bool(loss))
        else:
            text, ids = _input(text, ids, default_sentence=True)
            out = _bentov.compare(spec_a, spec_b, text, ids, _threads(threads), _engine(device, dtype, max_positions),
                                  bar.on_model, bool(loss))
    return Comparison.from_json(out)


def _engine(device, dtype, max_positions):
    """Where and how the passes run, for the engine."""
    return _bentov.Engine(device, dtype or "fp32", int(max_positions or 0))


def _corpus_source(texts_or_file):
    if isinstance(texts_or_file, (str, os.PathLike)):
        return os.fspath(texts_or_file), None
    return None, [str(t) for t in texts_or_file]


def _specs(models, device):
    """Names for the engine, and the device: the one given, else the first Model's, else cpu."""
    if models is None:
        models = demo_models()
    if isinstance(models, (str, os.PathLike, Model)):
        models = [models]
    specs, model_device = [], None
    for m in models:
        if isinstance(m, Model):
            specs.append(m.source)
            model_device = model_device or m.device
        elif isinstance(m, (str, os.PathLike)):
            specs.append(os.fspath(m))
        else:
            raise UsageError(f"{m!r} is not a model", "give names, folders or bentov.Model objects")
    if not specs:
        raise UsageError("no model given", "bentov.analyze(['EleutherAI/pythia-160m'])")
    return specs, device or model_device or "cpu"


def _input(text, ids, default_sentence=False):
    if text is not None and ids is not None:
        raise UsageError("give text or ids, not both", "analyze(models, text='...') or analyze(models, ids=[...])")
    if ids is not None:
        return None, [int(i) for i in ids]
    if text is None:
        if not default_sentence:
            raise UsageError("no input given", "pass text='...' or ids=[...]")
        text = NOTEBOOK_SENTENCE
    return str(text), None


def _threads(threads):
    if threads is None:
        return 0
    if int(threads) < 1:
        raise UsageError("threads must be at least 1", "threads=None uses every core")
    return int(threads)


def _model_roots():
    yield os.environ.get("BENTOV_MODELS_DIR")
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "models")  # the installed package
    try:
        from ._build_tree import SOURCE_MODELS_DIR  # written by CMake into a build tree only
        yield SOURCE_MODELS_DIR
    except ImportError:
        pass
