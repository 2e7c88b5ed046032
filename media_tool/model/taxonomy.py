"""The Podcast Taxonomy's person roles by group (podcast:person role/group values, case-insensitive)."""

from __future__ import annotations

ROLES: dict[str, tuple[str, ...]] = {
    "creative direction": ("director", "assistant director", "executive producer", "senior producer", "producer",
                           "associate producer", "development producer", "creative director"),
    "cast": ("host", "co-host", "guest host", "guest", "voice actor", "narrator", "announcer", "reporter"),
    "writing": ("author", "editorial director", "co-writer", "writer", "songwriter", "guest writer", "story editor",
                "managing editor", "script editor", "script coordinator", "researcher", "editor", "fact checker", "translater",
                "translator", "transcriber", "logger"),
    "audio production": ("studio coordinator", "technical director", "technical manager", "audio engineer",
                         "remote recording engineer", "post production engineer"),
    "audio post-production": ("audio editor", "sound designer", "foley artist", "composer", "theme music",
                              "music production", "music contributor"),
    "administration": ("production coordinator", "booking coordinator", "production assistant", "content manager",
                       "marketing manager", "sales representative", "sales manager"),
    "visuals": ("graphic designer", "cover art designer"),
    "community": ("social media manager",),
    "misc.": ("consultant", "intern"),
    "video production": ("camera operator", "lighting designer", "camera grip", "assistant camera"),
    "video post-production": ("editor", "assistant editor"),
}


def problem(role: str, group: str) -> str | None:
    """Why this role/group pair is not in the taxonomy, or None when it is."""
    g, r = group.strip().lower(), role.strip().lower()
    if g not in ROLES:
        return f"group {group!r} is not a Podcast Taxonomy group (use one of: {', '.join(ROLES)})"
    if r not in ROLES[g]:
        return f"role {role!r} is not a Podcast Taxonomy role of group {group!r} (use one of: {', '.join(ROLES[g])})"
    return None
