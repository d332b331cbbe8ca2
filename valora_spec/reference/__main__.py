"""`python -m valora_spec.reference`: the same as `valora-reference`."""

import sys

from valora_spec.reference.cli import main

sys.exit(main())
