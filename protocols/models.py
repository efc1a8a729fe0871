"""The protocols app's models, one module per concern (imported here so Django finds them):
protocol documents and their versions (`models_documents`), onboarding pathways
(`models_onboarding`), scenario playbooks and the places list (`models_playbooks`)."""

from .models_documents import ProtocolAcknowledgement, ProtocolDocument, ProtocolNotice, ProtocolVersion
from .models_onboarding import KnowledgeQuestion, OnboardingSignOff, Pathway, PathwayStep, StepCompletion
from .models_playbooks import Place, Playbook

__all__ = [
    "KnowledgeQuestion", "OnboardingSignOff", "Pathway", "PathwayStep", "Place", "Playbook",
    "ProtocolAcknowledgement", "ProtocolDocument", "ProtocolNotice", "ProtocolVersion", "StepCompletion",
]
