"""`python -m bench.api_bench` or `python bench/api_bench`: see run.py's docstring.

    .venv/bin/python -m bench.api_bench [--seconds 10] [--runs 3] [--databases sqlite,postgresql]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.api_bench.run import main  # noqa: E402

sys.exit(main())
