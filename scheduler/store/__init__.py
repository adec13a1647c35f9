"""The plan store: the one plan row type and every Core statement on plans (`plans`), and the
SQL form of the window-state rule with the worklist, sweep and nightly queries built on it
(`window_sql`). Services and jobs orchestrate; only this package writes plan rows."""
