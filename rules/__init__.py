"""IMS Cadence rules engine: rules.md as a pure, explained, versioned function of a history.

Standard library only; never reads the clock, the environment or files. Time and the clinic's
calendar (an open-day predicate and a local-date function) arrive as arguments.
"""

from .caps import AUTHORIZATION_FLAGS, authorization_flags, flags_on, next_check
from .decision import Decision, Explanation, Snapshot
from .engine import Fold, LocalDate, evaluate, fold, history_order, start, utc_date
from .errors import (
                     CalendarError,
                     InvalidEvent,
                     InvalidHistory,
                     InvalidRuleset,
                     PlanClosed,
                     RulesError,
                     UnknownEventKind,
)
from .events import (
                     EVENT_TYPES,
                     AuthorizationCleared,
                     AuthorizationSet,
                     ConsentRecorded,
                     Discharged,
                     Event,
                     Held,
                     OverrideCleared,
                     OverrideSet,
                     PhaseSet,
                     PlanCreated,
                     ProgressReport,
                     Resumed,
                     TimePassed,
                     VisitChanged,
                     event_from_dict,
)
from .phasing import entry_frequency
from .ruleset import DEFAULT_RULESET, SPEC, Ruleset, load_ruleset, parse_ruleset_id
from .state import Authorization, Override, PlanState, state_from_dict
from .values import (
                     CancellationReason,
                     Flag,
                     Frequency,
                     Phase,
                     ReviewReason,
                     Status,
                     VisitKind,
                     VisitStatus,
                     WindowState,
)
from .window import (
                     Window,
                     booked_until,
                     in_force,
                     lapse_after,
                     next_window,
                     series,
                     window_state,
)

__all__ = [
    "AUTHORIZATION_FLAGS", "Authorization", "AuthorizationCleared", "AuthorizationSet",
    "CancellationReason",
    "authorization_flags", "flags_on", "next_check",
    "CalendarError", "ConsentRecorded", "DEFAULT_RULESET", "Decision", "Discharged",
    "EVENT_TYPES", "Event", "Explanation", "Flag", "Fold", "Frequency", "Held", "InvalidEvent",
    "InvalidHistory", "InvalidRuleset", "LocalDate", "Override", "OverrideCleared",
    "OverrideSet", "Phase", "PhaseSet", "PlanClosed", "PlanCreated", "PlanState",
    "ProgressReport", "Resumed", "ReviewReason", "Ruleset", "RulesError", "SPEC", "Snapshot",
    "Status", "TimePassed", "UnknownEventKind", "VisitChanged", "VisitKind", "VisitStatus",
    "Window", "WindowState", "booked_until", "entry_frequency", "evaluate", "event_from_dict",
    "fold", "history_order", "in_force", "lapse_after", "load_ruleset", "next_window",
    "parse_ruleset_id", "series", "start", "state_from_dict", "utc_date", "window_state",
]
