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


ROLE_ZH: dict[str, str] = {
    "director": "导演", "assistant director": "副导演", "executive producer": "总制片人", "senior producer": "高级制片人",
    "producer": "制片人", "associate producer": "副制片人", "development producer": "策划制片人",
    "creative director": "创意总监", "host": "主持人", "co-host": "联合主持人", "guest host": "客座主持人",
    "guest": "嘉宾", "voice actor": "配音演员", "narrator": "旁白", "announcer": "播音员", "reporter": "记者",
    "author": "作者", "editorial director": "编辑总监", "co-writer": "联合撰稿人", "writer": "撰稿人",
    "songwriter": "词曲作者", "guest writer": "客座撰稿人", "story editor": "故事编辑", "managing editor": "执行编辑",
    "script editor": "剧本编辑", "script coordinator": "剧本统筹", "researcher": "研究员", "editor": "编辑",
    "fact checker": "事实核查", "translater": "译者", "translator": "译者", "transcriber": "文字整理",
    "logger": "场记", "studio coordinator": "录音室统筹", "technical director": "技术总监",
    "technical manager": "技术经理", "audio engineer": "音频工程师", "remote recording engineer": "远程录音工程师",
    "post production engineer": "后期工程师", "audio editor": "音频剪辑", "sound designer": "声音设计",
    "foley artist": "拟音师", "composer": "作曲", "theme music": "主题音乐", "music production": "音乐制作",
    "music contributor": "音乐提供", "production coordinator": "制作统筹", "booking coordinator": "嘉宾统筹",
    "production assistant": "制作助理", "content manager": "内容经理", "marketing manager": "市场经理",
    "sales representative": "销售代表", "sales manager": "销售经理", "graphic designer": "平面设计",
    "cover art designer": "封面设计", "social media manager": "社交媒体经理", "consultant": "顾问",
    "intern": "实习生", "camera operator": "摄像", "lighting designer": "灯光设计", "camera grip": "摄影助理",
    "assistant camera": "摄影助理", "assistant editor": "助理剪辑",
}
"""Every role above as a Chinese listener reads it (the Chinese feed and pages show these; the tag
itself keeps the taxonomy's English value, which apps parse)."""


def role_name(role: str, lang: str) -> str:
    """A role as shown to readers of `lang` (the taxonomy's own word in English)."""
    return ROLE_ZH.get(role.lower(), role) if lang == "zh" else role.lower()
