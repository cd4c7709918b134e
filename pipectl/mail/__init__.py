"""Mail and calendar files in and out: messages and invitations read into touchpoints, the
deals' dates written as an iCalendar feed, digests and drafts written as RFC 5322 messages.

A wing: it imports the kernel only, never the CLI, and never prints.
"""
