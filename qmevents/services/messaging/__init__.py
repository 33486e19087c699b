"""What citizens are told: the texts and when they are sent (messages.py, each a template of
templates.py), the outbox that stores them in the caller's transaction and sends them after it
(outbox.py), the ways out (backends.py, and providers.py for Alibaba Cloud and Tencent Cloud)."""
