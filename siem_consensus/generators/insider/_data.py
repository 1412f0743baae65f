"""Constants of the insider generator: public knobs, the organisation's tables, URLs and paths.

Private to :mod:`siem_consensus.generators.insider`, which re-exports the public names.
"""

from __future__ import annotations

from datetime import date
from typing import Final

SCENARIOS: Final = (
    "theft_before_resignation",
    "night_mass_download",
    "admin_keylogger",
    "cloud_upload",
)
"""Scenarios :func:`generate_insider_dataset` can inject (all by default)."""

DEFAULT_START: Final = date(2026, 1, 1)
"""First day of the generated period (reproducibility first)."""

ORG_DOMAIN: Final = "dtaa.example"
"""E-mail domain of the simulated organisation (CERT's is ``dtaa.com``)."""

SCENARIO_3_USER: Final = "bob.engineer"
NIGHT_DOWNLOADS: Final = 150
NIGHT_BYTES: Final = 3_800_000_000
"""Scenario 3: 150 downloads, 3,800 MB (decimal megabytes) between 02:00 and 05:00."""

BASELINE_DAILY_BYTES: Final = 5_000_000
"""Scenario 3: bob.engineer's ordinary file volume per working day (about 5 MB)."""

HEADERS: Final = {
    "logon": "id,date,user,pc,activity",
    "device": "id,date,user,pc,activity",
    "file": "id,date,user,pc,filename,activity,to_removable_media,from_removable_media,bytes,"
    "content",
    "http": "id,date,user,pc,url,activity,bytes,content",
    "email": "id,date,user,pc,to,cc,bcc,from,activity,size,attachments,content",
}
"""Header row of each generated event file."""

_HOUR: Final = 3600
_DAY: Final = 86400


# fmt: off
_DEPARTMENTS: Final = {  # name: (weight, roles, shared project folders, functional unit)
    "Engineering": (14, ("Engineer", "Senior Engineer"), ("project_docs", "firmware", "test_rigs"),
                    "5 - ResearchAndEngineering"),
    "Research": (8, ("Scientist",), ("studies", "datasets"), "5 - ResearchAndEngineering"),
    "Sales": (10, ("Salesman",), ("proposals", "accounts"), "3 - SalesAndMarketing"),
    "Finance": (6, ("Accountant",), ("ledgers", "budgets"), "4 - Finance"),
    "HR": (4, ("HR Specialist",), ("policies", "reviews"), "6 - HumanResources"),
    "IT": (5, ("ITAdmin",), ("runbooks", "inventory"), "2 - Administration"),
    "Management": (3, ("Director",), ("board", "planning"), "1 - Administration"),
}
_FIRST: Final = (
    "Nola", "Lucian", "Irene", "Moses", "Dean", "Lynn", "Wade", "Quinn", "Beck", "Kasimir",
    "Ginger", "Sawyer", "Leo", "Calvin", "Ada", "Hedy", "Omar", "Ruth", "Tanek", "Lee", "Maya",
    "Ivan", "Zora", "Felix", "Greta", "Hugo", "Iris", "Jonah", "Keira", "Milo", "Nadia",
    "Oscar", "Petra", "Rafe", "Selma", "Tobias", "Una", "Victor", "Willa", "Yusuf",
)
_LAST: Final = (
    "Fuller", "Rojas", "Mayo", "Hahn", "Hines", "Pratt", "Heath", "Colon", "Valdez", "Ross",
    "Hudson", "Ware", "Riggs", "Rios", "Lovelace", "Lamarr", "Byrne", "Chen", "Diaz", "Ellis",
    "Frost", "Garner", "Holt", "Ingram", "Joyce", "Keller", "Lund", "Marsh", "Nash", "Orr",
    "Pace", "Quade", "Reyes", "Stone", "Tate", "Upton", "Vance", "Webb", "Young", "Zeller",
)
_WORDS: Final = (
    "quarterly", "review", "design", "draft", "budget", "meeting", "schedule", "proposal",
    "customer", "project", "report", "update", "deadline", "status", "release", "test",
    "results", "analysis", "contract", "invoice", "plan", "summary", "notes", "roadmap",
    "hiring", "feedback", "training", "vendor", "estimate", "risk",
)
# fmt: on
_NEWS: Final = (
    "https://www.bbc.co.uk/news/",
    "https://www.reuters.com/world/",
    "https://www.nytimes.com/section/",
    "https://news.ycombinator.com/item?id=",
    "https://www.theguardian.com/",
)
_SOCIAL: Final = (
    "https://www.youtube.com/watch?v=",
    "https://www.amazon.com/dp/",
    "https://www.wikipedia.org/wiki/",
    "https://www.linkedin.com/feed/update/",
)
_JOBS: Final = (
    "https://www.linkedin.com/jobs/view/",
    "https://www.indeed.com/viewjob?jk=",
    "https://www.monster.com/job-openings/",
    "https://www.glassdoor.com/job-listing/",
)
_COMPETITORS: Final = (
    "https://careers.northwind-aero.com/apply/",
    "https://jobs.contoso-defense.com/position/",
)
_PARTNERS: Final = ("northwind-supply.com", "fabrikam-logistics.com", "tailspin-univ.edu")
_PERSONAL: Final = ("gmail.com", "yahoo.com", "outlook.com", "protonmail.com")
_CLOUD: Final = (
    ("https://www.dropbox.com/home", "https://content.dropboxapi.com/2/files/upload"),
    ("https://wetransfer.com/", "https://wetransfer.com/api/v4/transfers/upload"),
    ("https://mega.nz/fm", "https://mega.nz/upload"),
    ("https://pastebin.com/", "https://pastebin.com/api/api_post.php"),
)
_ADMIN_TOOLS: Final = (
    "C:\\Tools\\Sysinternals\\PsExec.exe",
    "C:\\Tools\\Sysinternals\\procmon.exe",
    "C:\\Windows\\System32\\mmc.exe",
    "C:\\Tools\\putty.exe",
)
_KEYLOGGER_SITE: Final = "http://free-spy-tools.download/keyloggers/"
_KEYLOGGER_EXE: Final = "kl_setup.exe"
_KEYLOGGER_PATH: Final = "C:\\ProgramData\\WinSvc\\"

_TRAITS: Final = {  # trait: (how many users, eligible departments or None for any)
    "sysadmin": (4, ("IT",)),
    "night_owl": (4, None),
    "traveller": (4, ("Sales", "Management", "Research")),
    "usb": (5, None),
    "weekend": (3, None),
    "job_seeker": (3, None),
    "dropbox": (2, None),
    "personal_mail": (2, None),
}
