from .models_playbooks import Place, Playbook

__all__ = ["Place", "Playbook"]
