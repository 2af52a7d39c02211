"""Approvals: self-service changes wait for a ministry approver; the public sees the last approved state."""
