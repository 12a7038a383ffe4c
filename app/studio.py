"""The graphs `langgraph dev` serves (see langgraph.json), for LangGraph Studio and agent-chat-ui.

The server sends each run's context as JSON (`{"account": …, "reviewer": …, "today": …}`, the schema of
`graphs.context.RunContext`) and keeps the checkpoints itself; the services are built from that context and the
settings (environment and `.env`) by the same factory the CLI uses, so the policy, the change log under
ADPILOT_HOME and the one apply path are the CLI's.
"""

from __future__ import annotations

from app.services import AppServices
from app.settings import load_settings
from graphs.audit import build_audit_graph
from graphs.chat import build_chat_graph

_services = AppServices(load_settings())

audit = build_audit_graph(_services).compile(name="audit")
chat = build_chat_graph(_services).compile(name="chat")
