"""examples/bentov_point.ipynb executes, start to end, on the demo models (no network)."""
import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT


def test_example_notebook_executes(tmp_path):
    path = os.path.join(ROOT, "examples", "bentov_point.ipynb")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4, "the figure, the head grid, the pattern and the corpus plot"
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert any("L_star_empirical" in o["data"]["text/html"] or "L_star" in o["data"]["text/html"] for o in html)
    text = "".join(o.get("text", "") for o in outputs)
    assert "Mean deviation from L/2" in text
