"""Progress of a run: tqdm bars (tqdm.auto, so widgets in Jupyter), a user callable, or nothing."""


class Progress:
    """Turns the engine's events into bars over models and texts.

    ``progress`` is True (tqdm bars), False/None (silent), or a callable
    ``progress(stage, done, total, name)`` with stage "model" or "text"; what it raises ends
    the run and reaches the caller.
    """

    def __init__(self, progress, n_models, desc="models"):
        self._callback = progress if callable(progress) else None
        self._bars = bool(progress) and self._callback is None
        self._models = None
        self._texts = None
        self._text_model = None
        if self._bars:
            from tqdm.auto import tqdm
            self._tqdm = tqdm
            self._models = tqdm(total=n_models, desc=desc, unit="model", leave=True)

    def on_model(self, done, total):
        if self._callback:
            self._callback("model", done, total, None)
        elif self._models is not None:
            if self._texts is not None:
                self._texts.n = self._texts.total
                self._texts.refresh()
            self._models.update(done - self._models.n)

    def on_text(self, name, done, total):
        if self._callback:
            self._callback("text", done, total, name)
        elif self._bars:
            if self._texts is None:
                self._texts = self._tqdm(total=total, desc=name, unit="text", leave=False)
            if name != self._text_model:
                self._text_model = name
                self._texts.reset(total=total)
                self._texts.set_description(name)
            self._texts.update(done - self._texts.n)

    def close(self):
        for bar in (self._texts, self._models):
            if bar is not None:
                bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
