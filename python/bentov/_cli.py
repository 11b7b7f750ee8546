"""The `bentov` command installed with the Python package: the compiled CLI shipped inside it."""
import os
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    exe = os.path.join(here, "bin", "bentov")
    if not os.path.isfile(exe):
        sys.exit("bentov: this installation has no command-line program (bentov/bin/bentov)")
    os.environ.setdefault("BENTOV_MODELS_DIR", os.path.join(here, "models"))
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
