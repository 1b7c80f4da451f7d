"""Email addresses as mailboxes: the one key under which an address is looked up and counted."""


def mailbox_key(raw):
    """The key of the mailbox `raw` names, for look-ups and counters; None when it names none."""
    if not isinstance(raw, str) or "@" not in raw:
        return None
    return raw.strip().lower() or None
