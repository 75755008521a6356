//! Compiled matcher vs the linear oracle (issue 3).
