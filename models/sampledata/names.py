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

# How each capability (same order as CAPABILITIES) is described, for the roadmap
# items' and initiatives' descriptions: (the customer's own tag for it, which no roadmap
# item carries, its distinctive phrases). A roadmap item and an initiative about the same
# capability use the same phrases, whatever their tags.
CAPABILITY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uptime", (
        "vibration analysis", "bearing wear alerts", "failure forecasts",
        "remaining useful life estimates", "maintenance planned by wear", "early fault warnings",
    )),
    ("plant-visibility", (
        "live dashboards of remote sites", "alarm notifications to the control room",
        "oversight of unmanned stations", "remote access to operator screens",
        "site status at a glance", "remote alarm acknowledgement",
    )),
    ("local-processing", (
        "edge gateways", "low-latency control loops", "local analytics containers",
        "shop-floor compute nodes", "offline-capable runtimes", "on-premise stream processing",
    )),
    ("cloud-first", (
        "cloud upload of machine telemetry", "fleet-wide telemetry", "MQTT brokers",
        "device provisioning at scale", "secure cloud tunnels", "telemetry from the installed base",
    )),
    ("ot-security", (
        "network segmentation", "intrusion detection", "patch management",
        "IEC 62443 compliance", "firewall rules for control systems", "vulnerability scanning",
    )),
    ("energy-savings", (
        "power metering per machine", "load shifting", "compressed air leak detection",
        "energy audits", "idle-mode power reduction", "peak demand control",
    )),
    ("esg", (
        "scope 3 emissions data", "product carbon footprints", "CSRD disclosures",
        "emission factor libraries", "greenhouse gas inventories", "supplier emissions surveys",
    )),
    ("virtual-commissioning", (
        "virtual commissioning", "3D line simulation", "what-if throughput scenarios",
        "simulation models of the line", "layout planning in 3D", "model-based design reviews",
    )),
    ("asset-health", (
        "temperature and oil sensors", "asset health scores", "thermal imaging rounds",
        "lubrication condition checks", "motor current signatures", "health indicators per asset",
    )),
    ("machine-safety", (
        "CE marking", "risk assessments to ISO 12100", "safety PLC validation",
        "functional safety audits", "machinery directive conformity",
        "safety integrity level calculations",
    )),
    ("standard-modules", (
        "plug-and-produce modules", "standard mechanical interfaces", "configurable module kits",
        "shared module libraries", "interchangeable drive units", "module-based line layouts",
    )),
    ("erp-link", (
        "REST interfaces to SAP", "order status webhooks", "EDI messages",
        "master data synchronisation", "purchase order APIs", "ERP connectors",
    )),
    ("field-app", (
        "a technician smartphone app", "offline work orders", "photo documentation on site",
        "digital service reports", "mobile job dispatch", "signature capture on tablets",
    )),
    ("e-procurement", (
        "an online parts catalogue", "exploded-view drawings", "parts availability checks",
        "reorders from the bill of materials", "a webshop for spares", "punch-out catalogues",
    )),
    ("grid-expansion", (
        "medium-voltage switchgear", "substation upgrades", "transformer protection",
        "gas-insulated switchgear", "grid connection points", "cable termination kits",
    )),
    ("modernisation", (
        "drop-in replacement drives", "controller upgrades for legacy machines",
        "migration kits for obsolete PLCs", "brownfield modernisation",
        "rewiring of old cabinets", "longer machine lifetimes",
    )),
    ("zero-defect", (
        "camera-based defect detection", "deep learning image classification",
        "surface flaw recognition", "automated optical inspection", "labelled defect images",
        "inline visual checks",
    )),
    ("h2", (
        "hydrogen blending", "H2-compatible burners", "electrolyser connections",
        "hydrogen leak sensors", "fuel switching to hydrogen", "hydrogen pipeline fittings",
    )),
    ("campus-network", (
        "a private 5G campus network", "5G standalone cores", "low-latency wireless AGVs",
        "network slicing", "licensed spectrum on site", "5G radio coverage in the halls",
    )),
    ("take-back", (
        "take-back of used equipment", "refurbished units", "component remanufacturing",
        "material passports", "recycling of returned devices", "second-life equipment",
    )),
)  # fmt: skip

# Loose tags: one word two capabilities go by, each in its own sense. A roadmap item
# carrying one for the first capability and an initiative carrying it for the second
# share a tag and nothing else (a false friend).
LOOSE_TAGS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("inspection", ("safety-certification", "ai-quality-inspection")),
    ("energy", ("energy-efficiency", "hydrogen-ready")),
    ("network", ("cybersecurity", "5g-private-network")),
    ("lifecycle", ("retrofit", "circular-economy")),
)

# Sentences around the phrases: {a}, {b} and {c} are phrases of the capability, {line} a
# product line, {team} a customer's team. No commas (the CSV writer does not quote).
ROADMAP_SENTENCES: tuple[str, ...] = (
    "Adds {a} and {b} to the {line} range with {c} included.",
    "Lets customers run {a} and {b} from one screen with {c}.",
    "Brings {a} and {b} to existing {line} installations together with {c}.",
    "Delivers {a} with {b} and {c} for plants of every size.",
    "Ships {a} and {b} as standard and {c} as an option.",
)
INITIATIVE_SENTENCES: tuple[str, ...] = (
    "We want {a} and {b} across all our sites.",
    "Our {team} team asked for {a} and {b} before the next budget round.",
    "The board expects {a} with {b} at the main plant.",
    "We plan to introduce {a} at every plant and {b} soon after.",
    "We are looking for a partner for {a} and {b}.",
)
CUSTOMER_TEAMS: tuple[str, ...] = (
    "maintenance", "operations", "engineering", "quality", "IT", "procurement", "service",
    "sustainability",
)  # fmt: skip

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
