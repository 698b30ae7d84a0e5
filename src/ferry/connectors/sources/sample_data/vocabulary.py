"""The fixed word lists the sample data is drawn from; changing one changes every generated row."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Isabella", "Lucas",
    "Mia", "Mateo", "Charlotte", "Levi", "Ava", "Ethan", "Harper", "James", "Luna", "Aiden",
    "Camila", "Hiroshi", "Yuki", "Aarav", "Priya", "Chen", "Mei", "Omar", "Fatima", "Lars",
    "Ingrid", "Pierre", "Camille", "Giulia", "Marco", "Sofia", "Diego", "Lucia", "Kwame", "Amara",
    "Nikolai", "Anya", "Sean", "Aoife", "Mohammed", "Leila", "Jonas", "Freya", "Tomas", "Elena",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Martinez", "Brown", "Lee", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Martin", "Jackson", "White", "Lopez", "Clark", "Lewis", "Walker", "Young", "King",
    "Tanaka", "Sato", "Patel", "Sharma", "Wang", "Li", "Haddad", "Nilsson", "Dubois", "Rossi",
    "Bianchi", "Fernandez", "Mensah", "Okafor", "Ivanov", "Petrova", "Murphy", "Kelly", "Schmidt",
    "Muller", "Novak", "Kowalski", "Silva", "Santos", "Nguyen", "Kim", "Park", "Cohen", "Berg", "Costa",
)  # fmt: skip

# (city, country) pairs, so that an address never puts a city in the wrong country.
CITIES = (
    ("New York", "US"), ("Chicago", "US"), ("Austin", "US"), ("Seattle", "US"), ("Denver", "US"),
    ("Toronto", "CA"), ("Vancouver", "CA"), ("Mexico City", "MX"), ("Sao Paulo", "BR"),
    ("Buenos Aires", "AR"), ("London", "GB"), ("Manchester", "GB"), ("Dublin", "IE"), ("Paris", "FR"),
    ("Lyon", "FR"), ("Berlin", "DE"), ("Munich", "DE"), ("Amsterdam", "NL"), ("Madrid", "ES"),
    ("Barcelona", "ES"), ("Rome", "IT"), ("Milan", "IT"), ("Stockholm", "SE"), ("Oslo", "NO"),
    ("Warsaw", "PL"), ("Prague", "CZ"), ("Lagos", "NG"), ("Nairobi", "KE"), ("Cairo", "EG"),
    ("Mumbai", "IN"), ("Bangalore", "IN"), ("Singapore", "SG"), ("Tokyo", "JP"), ("Osaka", "JP"),
    ("Seoul", "KR"), ("Shanghai", "CN"), ("Sydney", "AU"), ("Melbourne", "AU"), ("Auckland", "NZ"),
)  # fmt: skip

STREET_NAMES = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Lake", "Hill", "River",
    "Park", "Church", "Market", "Mill", "Station", "Garden", "Bridge", "High", "King", "Queen",
)  # fmt: skip

STREET_SUFFIXES = ("Street", "Avenue", "Road", "Lane", "Boulevard", "Way", "Drive", "Place")

# Reserved example domains: generated emails can never reach a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "shop.example.org")

TAGS = (
    "vip", "newsletter", "early_adopter", "wholesale", "loyalty", "returning",
    "mobile", "gift_buyer", "bargain_hunter", "b2b", "beta", "referral",
)  # fmt: skip

PRODUCT_ADJECTIVES = (
    "Ergonomic", "Rustic", "Sleek", "Compact", "Deluxe", "Classic", "Modern", "Portable",
    "Durable", "Lightweight", "Handmade", "Premium", "Smart", "Vintage", "Eco", "Refined",
)  # fmt: skip

PRODUCT_MATERIALS = (
    "Steel", "Wooden", "Cotton", "Leather", "Bamboo", "Ceramic", "Glass", "Wool",
    "Granite", "Aluminium", "Linen", "Rubber", "Copper", "Marble", "Plastic",
)  # fmt: skip

# (noun, category) pairs: the category follows from what the product is.
PRODUCT_NOUNS = (
    ("Chair", "Furniture"), ("Table", "Furniture"), ("Lamp", "Home"), ("Vase", "Home"),
    ("Mug", "Kitchen"), ("Kettle", "Kitchen"), ("Knife", "Kitchen"), ("Bowl", "Kitchen"),
    ("Backpack", "Bags"), ("Wallet", "Bags"), ("Jacket", "Clothing"), ("Scarf", "Clothing"),
    ("Shoes", "Clothing"), ("Gloves", "Clothing"), ("Watch", "Accessories"), ("Sunglasses", "Accessories"),
    ("Keyboard", "Electronics"), ("Speaker", "Electronics"), ("Headphones", "Electronics"),
    ("Bicycle", "Sports"), ("Yoga Mat", "Sports"), ("Tent", "Outdoors"), ("Bottle", "Outdoors"),
    ("Notebook", "Stationery"), ("Pen", "Stationery"),
)  # fmt: skip

# Purchase statuses with their weights (they add up to 1).
STATUSES = (
    ("pending", 0.05), ("paid", 0.10), ("shipped", 0.15), ("delivered", 0.60),
    ("returned", 0.06), ("cancelled", 0.04),
)  # fmt: skip
DELIVERED_STATUSES = ("delivered", "returned")

COUPON_CODES = ("WELCOME10", "SPRING15", "SUMMER20", "BLACKFRIDAY", "FREESHIP", "LOYAL5")
