from .access import scope_of


def membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scope": scope_of(user), "membership": getattr(user, "membership", None)}
