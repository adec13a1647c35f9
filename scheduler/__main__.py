"""`python -m scheduler`: run the scheduler process (leader or hot standby)."""

import sys

from scheduler.runner import main

sys.exit(main())
