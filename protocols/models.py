"""The protocols app's models, one module per concern (imported here so Django finds them):
protocol documents and their versions (`models_documents`), onboarding pathways
(`models_onboarding`)."""

from .models_documents import ProtocolAcknowledgement, ProtocolDocument, ProtocolNotice, ProtocolVersion
from .models_onboarding import KnowledgeQuestion, OnboardingSignOff, Pathway, PathwayStep, StepCompletion

__all__ = [
    "KnowledgeQuestion", "OnboardingSignOff", "Pathway", "PathwayStep", "ProtocolAcknowledgement",
    "ProtocolDocument", "ProtocolNotice", "ProtocolVersion", "StepCompletion",
]
