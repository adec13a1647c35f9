"""`python -m scheduler`: run the scheduler process (leader or hot standby)."""

import sys

from scheduler.jobs.runner import main

sys.exit(main())
