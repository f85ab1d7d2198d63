"""Fixed vocabularies for the sample data: names, places, product lines, tags.

Every list here is a tuple so its order (and therefore the generated data) never
depends on dict or set ordering. No value may contain a comma, a quote or a line
break: the CSV writer runs without quoting and refuses such values.
"""

from __future__ import annotations

# (name, weight); weights skew the mix towards manufacturing-heavy key accounts.
INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("automotive", 0.12),
    ("machinery", 0.14),
    ("chemicals", 0.09),
    ("food and beverage", 0.08),
    ("pharmaceuticals", 0.06),
    ("energy", 0.07),
    ("logistics", 0.08),
    ("construction", 0.09),
    ("electronics", 0.09),
    ("retail", 0.06),
    ("healthcare", 0.05),
    ("public sector", 0.07),
)

# Nouns per industry, same order as INDUSTRIES, used in customer names.
INDUSTRY_NOUNS: tuple[tuple[str, ...], ...] = (
    ("Automotive", "Drivetrain", "Mobility", "Car Parts", "Vehicle Systems", "Autoteile"),
    ("Machinery", "Maschinenbau", "Tooling", "Precision Works", "Engineering", "Equipment"),
    ("Chemicals", "Chemie", "Polymers", "Coatings", "Specialty Materials", "Resins"),
    ("Foods", "Dairy", "Beverages", "Bakeries", "Nutrition", "Brewing"),
    ("Pharma", "Life Sciences", "Biologics", "Laboratories", "Generics", "Therapeutics"),
    ("Energy", "Power", "Renewables", "Utilities", "Grid Services", "Wind"),
    ("Logistics", "Freight", "Transport", "Warehousing", "Shipping", "Cargo"),
    ("Construction", "Bau", "Building Systems", "Infrastructure", "Civil Works", "Concrete"),
    ("Electronics", "Components", "Semiconductors", "Devices", "Circuits", "Optics"),
    ("Retail", "Stores", "Markets", "Trading", "Wholesale", "Outlets"),
    ("Health", "Clinics", "Medical", "Care Group", "Hospital Services", "Diagnostics"),
    ("Municipal Services", "Waterworks", "Transit Authority", "City Works", "Agency", "Board"),
)

NAME_PREFIXES: tuple[str, ...] = (
    "Alpen", "Atlas", "Baltic", "Boreal", "Castell", "Cobalt", "Delta", "Donau", "Eifel", "Elbe",
    "Falcon", "Fjord", "Granit", "Helix", "Hansa", "Iberia", "Isar", "Jura", "Kestrel", "Lumen",
    "Main", "Meridian", "Mosel", "Neckar", "Nordic", "Nova", "Oder", "Orion", "Polaris", "Quarz",
    "Rhein", "Ruhr", "Saale", "Sigma", "Solis", "Taurus", "Tiber", "Union", "Vega", "Weser",
    "Westfalen", "Zenit", "Adria", "Brenner", "Carpat", "Danubia", "Ems", "Garonne", "Loire",
    "Rhone", "Sava", "Tagus", "Vistula", "Aurora", "Borealis", "Corona", "Equinox", "Gaia",
    "Ikaros", "Kronos",
)  # fmt: skip

NAME_MIDDLES: tuple[str, ...] = (
    "Advanced", "Allied", "Applied", "Central", "Consolidated", "Continental", "Dynamic",
    "European", "First", "General", "Global", "Green", "Integrated", "International", "Modern",
    "National", "New", "Northern", "Pacific", "Premier", "Prime", "Progressive", "Regional",
    "Royal", "Southern", "Standard", "Strategic", "Summit", "Superior", "Technical", "Total",
    "United", "Universal", "Western", "Eastern", "Metro", "Crown", "Heritage", "Pioneer",
    "Liberty", "Pinnacle", "Keystone", "Sterling", "Vanguard", "Horizon", "Evergreen",
    "Landmark", "Frontier", "Paramount", "Triton",
)  # fmt: skip

# (region, ((country, legal suffix, weight), ...), region weight)
REGIONS: tuple[tuple[str, tuple[tuple[str, str, float], ...], float], ...] = (
    ("DACH", (("DE", "GmbH", 0.7), ("AT", "GmbH", 0.15), ("CH", "AG", 0.15)), 0.30),
    ("Benelux", (("NL", "B.V.", 0.55), ("BE", "NV", 0.4), ("LU", "S.A.", 0.05)), 0.12),
    (
        "Nordics",
        (("SE", "AB", 0.35), ("DK", "A/S", 0.25), ("NO", "AS", 0.2), ("FI", "Oy", 0.2)),
        0.10,
    ),
    ("France", (("FR", "SAS", 1.0),), 0.12),
    ("Iberia", (("ES", "S.L.", 0.75), ("PT", "Lda", 0.25)), 0.08),
    ("Italy", (("IT", "S.p.A.", 1.0),), 0.10),
    ("UK and Ireland", (("GB", "Ltd", 0.85), ("IE", "Ltd", 0.15)), 0.10),
    (
        "Central and Eastern Europe",
        (("PL", "sp. z o.o.", 0.5), ("CZ", "s.r.o.", 0.25), ("HU", "Kft.", 0.25)),
        0.08,
    ),
)

OWNERSHIP_TYPES: tuple[tuple[str, float], ...] = (
    ("private", 0.55),
    ("public", 0.20),
    ("state", 0.10),
    ("foreign", 0.15),
)

# DOMAIN.md section 3: the shares one large vendor's research found.
BUYING_FACTORS: tuple[tuple[str, float], ...] = (
    ("relationship", 0.46),
    ("price", 0.36),
    ("innovation", 0.18),
)

# (id, name, category, gross margin, list price of a typical unit in EUR, popularity)
PRODUCT_LINES: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("PL-01", "Industrial Sensors", "Automation", 0.42, 85.0, 0.18),
    ("PL-02", "Motion Control", "Automation", 0.34, 420.0, 0.14),
    ("PL-03", "Power Supplies", "Electrical", 0.21, 140.0, 0.16),
    ("PL-04", "Switchgear", "Electrical", 0.27, 650.0, 0.12),
    ("PL-05", "Connectivity Modules", "Digital", 0.48, 210.0, 0.10),
    ("PL-06", "Analytics Software", "Digital", 0.68, 1200.0, 0.07),
    ("PL-07", "Field Service", "Services", 0.31, 95.0, 0.11),
    ("PL-08", "Spare Parts", "Services", 0.45, 35.0, 0.12),
)
SKUS_PER_LINE = 40

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas",
    "Katrin", "Lukas", "Maria", "Niklas", "Olivia", "Paul", "Quentin", "Rosa", "Stefan", "Tanja",
    "Ulrich", "Vera", "Walter", "Xenia", "Yannick", "Zoe", "Amelie", "Bruno", "Carla", "Dirk",
    "Emma", "Frank", "Hanna", "Igor", "Julia", "Karl", "Lena", "Marco", "Nora", "Oskar",
    "Petra", "Ralf", "Sofia", "Tobias", "Ute", "Victor", "Wiebke", "Lars", "Mia", "Sven",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Bauer", "Becker", "Berg", "Dubois", "Eriksson", "Fischer", "Garcia", "Hansen", "Hoffmann",
    "Jansen", "Keller", "Koch", "Kowalski", "Lange", "Larsen", "Martin", "Meyer", "Moreau",
    "Muller", "Neumann", "Nielsen", "Novak", "Peeters", "Richter", "Rossi", "Schmidt",
    "Schneider", "Schulz", "Silva", "Svensson", "Thomas", "Vogel", "Wagner", "Weber", "Wolf",
    "Young", "Zimmermann", "Bianchi", "Costa", "de Vries", "Fontaine", "Horvat", "Kovacs",
    "Lindqvist", "Maes", "Nowak", "Olsen", "Popescu", "Russo", "Virtanen",
)  # fmt: skip

SENIORITIES: tuple[tuple[str, float], ...] = (
    ("junior", 0.40),
    ("senior", 0.40),
    ("principal", 0.20),
)

# Capability vocabulary shared by roadmap items and customer initiatives:
# (tag, roadmap title, initiative title). The last GAP_TAGS tags are never on the
# roadmap, so initiatives that need them are gaps by construction.
CAPABILITIES: tuple[tuple[str, str, str], ...] = (
    ("predictive-maintenance", "Predictive maintenance", "Cut unplanned downtime"),
    ("remote-monitoring", "Remote monitoring", "Monitor plants remotely"),
    ("edge-computing", "Edge computing runtime", "Process machine data at the edge"),
    ("cloud-connectivity", "Cloud connectivity", "Connect the installed base to the cloud"),
    ("cybersecurity", "Industrial cybersecurity", "Harden plant networks"),
    ("energy-efficiency", "Energy efficiency pack", "Reduce energy use per unit"),
    ("carbon-reporting", "Carbon reporting", "Report scope 3 emissions"),
    ("digital-twin", "Digital twin", "Build a digital twin of the line"),
    ("condition-monitoring", "Condition monitoring", "Monitor asset condition"),
    ("safety-certification", "Safety certification kit", "Certify machine safety"),
    ("modular-design", "Modular hardware design", "Standardise on modular equipment"),
    ("api-integration", "Open API integration", "Integrate suppliers into the ERP"),
    ("mobile-service", "Mobile service app", "Move field service to mobile"),
    ("spare-parts-portal", "Spare parts portal", "Order spare parts online"),
    ("high-voltage", "High-voltage range", "Expand the high-voltage network"),
    ("retrofit", "Retrofit kits", "Retrofit the installed base"),
    ("ai-quality-inspection", "AI quality inspection", "Automate visual quality inspection"),
    ("hydrogen-ready", "Hydrogen-ready components", "Prepare plants for hydrogen"),
    ("5g-private-network", "Private 5G network", "Roll out private 5G on site"),
    ("circular-economy", "Circular economy services", "Take back and refurbish equipment"),
)
GAP_TAGS = 4

# Customer actions that move an opportunity into a stage (DOMAIN.md section 6):
# indexed like the funnel stages; the first stage is entered without an action.
STAGE_ACTIONS: tuple[tuple[str, ...], ...] = (
    (),
    ("shared its organisation chart", "agreed to an analysis workshop"),
    ("access to decision maker", "invited us to a site visit"),
    ("shared its requirements", "agreed to a demo"),
    ("agreed to a trial", "technical gatekeeper attended the demo"),
    ("accepted part of budget", "agreed to push jointly"),
    ("signed the order", "signed the framework agreement"),
    ("paid the first invoice", "released the down payment"),
)

DEAL_KINDS: tuple[str, ...] = (
    "framework agreement",
    "expansion",
    "retrofit",
    "pilot",
    "renewal",
    "rollout",
)

LOST_REASONS: tuple[str, ...] = (
    "price too high",
    "incumbent competitor kept the business",
    "no budget",
    "project cancelled by customer",
    "lost access to decision maker",
    "timing did not fit",
)

WALLET_SOURCES: tuple[tuple[str, float], ...] = (
    ("planner", 0.6),
    ("market_study", 0.3),
    ("customer", 0.1),
)

# The sample plans (models/sampledata/plans.py): job titles per buying role, how
# stakeholders were met and about what, the account team's actions and initiatives a
# planner knows of that no file carries.
STAKEHOLDER_TITLES: dict[str, tuple[str, ...]] = {
    "decision_maker": ("Managing Director", "Chief Operating Officer", "VP Operations"),
    "financial_gatekeeper": ("Chief Financial Officer", "Head of Controlling", "Finance Director"),
    "user": ("Plant Manager", "Head of Maintenance", "Production Manager", "Head of Service"),
    "purchaser": ("Head of Procurement", "Category Manager", "Strategic Buyer"),
    "technical_gatekeeper": ("Head of Engineering", "Automation Architect", "Quality Manager"),
}
CONTACT_CHANNELS = ("meeting", "call", "e-mail", "workshop", "site visit")
CONTACT_NOTES = (
    "quarterly business review", "budget review", "roadmap briefing", "contract renewal",
    "demo of the analytics suite", "site visit at the main plant", "price negotiation",
)  # fmt: skip
PLAN_ACTIONS = (
    "Arrange a demo for operations", "Prepare the quarterly business review",
    "Send the framework agreement draft", "Invite the CFO to the customer day",
    "Run a value workshop with maintenance", "Map the buying centre of the new plant",
    "Agree on a service level for spare parts",
)  # fmt: skip
PLAN_INITIATIVES = (
    "Open a plant in Poland", "Electrify the truck fleet", "Consolidate suppliers",
    "Standardise automation across all sites", "Digitise the spare-parts supply chain",
)  # fmt: skip
