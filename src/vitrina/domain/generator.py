"""Deterministic generators of the marketplace's data: catalogue, customers, traffic.

Everything is a pure function of a seed (a `random.Random` is created from it) and an injected
clock, so tests, benchmarks and the demo see the same Russian catalogue and the same customer
preferences every time. Customers have stable favourite categories and brands, which gives the
recommendation job a real signal to find.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

# Fixed reference time when no clock is injected: keeps the catalogue byte-identical per seed.
DEFAULT_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
FIRST_PRODUCT_ID = 100001
STORES = [f"store_{i:03d}" for i in range(1, 6)]
OUT_OF_STOCK_SHARE = 0.08
NAMED_CUSTOMERS = [
    "Alice",
    "Bob",
    "Charlie",
    "Dave",
    "Eva",
    "Fedor",
    "Galina",
    "Igor",
    "Katya",
    "Lev",
]

# type name, price range (RUB), tags, specifications (key -> choices)
ProductType = tuple[str, tuple[int, int], list[str], dict[str, list[str]]]

_SCREEN = {
    "Диагональ": ['6.1"', '6.5"', '6.7"', '11"', '13.3"'],
    "Цвет": ["чёрный", "белый", "серебристый", "синий"],
}
_SIZE = {
    "Размер": ["S", "M", "L", "XL", "XXL"],
    "Цвет": ["чёрный", "серый", "синий", "красный"],
    "Материал": ["хлопок", "полиэстер", "шерсть", "лён"],
}
_SHOE = {
    "Размер": [str(s) for s in range(36, 47)],
    "Цвет": ["чёрный", "белый", "серый"],
    "Материал верха": ["текстиль", "натуральная кожа", "сетка"],
}
_POWER = {
    "Мощность": ["800 Вт", "1200 Вт", "1500 Вт", "2000 Вт"],
    "Гарантия": ["12 мес.", "24 мес.", "36 мес."],
    "Цвет": ["белый", "чёрный", "стальной"],
}
_BOOK = {
    "Переплёт": ["твёрдый", "мягкий"],
    "Страниц": ["224", "320", "416", "512"],
    "Год издания": ["2021", "2022", "2023", "2024"],
}
_SMART = {
    "Протокол": ["Wi-Fi", "Zigbee", "Bluetooth"],
    "Голосовой помощник": ["Алиса", "Маруся"],
    "Питание": ["230 В", "батарейки AAA", "USB-C"],
}

CATALOGUE: dict[str, tuple[list[str], list[ProductType]]] = {
    "Электроника": (
        ["Samsung", "Xiaomi", "Honor", "Realme", "Tecno"],
        [
            (
                "Смартфон",
                (9000, 120000),
                ["смартфоны", "гаджеты", "связь"],
                {
                    **_SCREEN,
                    "Память": ["128 ГБ", "256 ГБ", "512 ГБ"],
                    "Камера": ["50 Мп", "108 Мп"],
                },
            ),
            (
                "Умные часы",
                (3000, 45000),
                ["умные часы", "гаджеты", "фитнес"],
                {
                    "Экран": ['AMOLED 1.4"', 'AMOLED 1.9"'],
                    "Защита": ["IP68", "5 ATM"],
                    "Автономность": ["7 дней", "14 дней"],
                },
            ),
            (
                "Планшет",
                (12000, 90000),
                ["планшеты", "гаджеты"],
                {**_SCREEN, "Память": ["64 ГБ", "128 ГБ", "256 ГБ"]},
            ),
            (
                "Фитнес-браслет",
                (1500, 7000),
                ["фитнес", "здоровье", "гаджеты"],
                {"Экран": ['AMOLED 1.1"', 'TFT 0.96"'], "Защита": ["IP67", "5 ATM"]},
            ),
        ],
    ),
    "Компьютеры": (
        ["Lenovo", "ASUS", "Acer", "Logitech", "Dell"],
        [
            (
                "Ноутбук",
                (35000, 250000),
                ["ноутбуки", "работа", "учёба"],
                {
                    "Процессор": ["Intel Core i5", "Intel Core i7", "AMD Ryzen 5", "AMD Ryzen 7"],
                    "Оперативная память": ["8 ГБ", "16 ГБ", "32 ГБ"],
                    "Накопитель": ["SSD 512 ГБ", "SSD 1 ТБ"],
                },
            ),
            (
                "Механическая клавиатура",
                (2500, 18000),
                ["клавиатуры", "геймерам", "периферия"],
                {
                    "Переключатели": ["Red", "Brown", "Blue"],
                    "Подсветка": ["RGB", "белая", "нет"],
                    "Раскладка": ["русская/английская"],
                },
            ),
            (
                "Мышь беспроводная",
                (700, 9000),
                ["мыши", "периферия"],
                {
                    "Разрешение сенсора": ["4000 dpi", "16000 dpi", "26000 dpi"],
                    "Подключение": ["2.4 ГГц", "Bluetooth"],
                },
            ),
            (
                "Монитор",
                (9000, 80000),
                ["мониторы", "работа", "геймерам"],
                {
                    "Диагональ": ['24"', '27"', '32"'],
                    "Частота": ["75 Гц", "144 Гц", "165 Гц"],
                    "Матрица": ["IPS", "VA"],
                },
            ),
        ],
    ),
    "Аудио": (
        ["Sony", "JBL", "Marshall", "Sennheiser", "Edifier"],
        [
            (
                "Наушники беспроводные",
                (1500, 40000),
                ["наушники", "беспроводные", "музыка"],
                {
                    "Шумоподавление": ["активное", "пассивное"],
                    "Время работы": ["20 ч", "30 ч", "40 ч"],
                    "Bluetooth": ["5.2", "5.3"],
                },
            ),
            (
                "Портативная колонка",
                (2000, 30000),
                ["колонки", "музыка", "на природу"],
                {"Мощность": ["10 Вт", "20 Вт", "40 Вт"], "Защита": ["IPX5", "IP67"]},
            ),
            (
                "Саундбар",
                (8000, 60000),
                ["домашний кинотеатр", "музыка"],
                {"Мощность": ["120 Вт", "300 Вт"], "Сабвуфер": ["встроенный", "беспроводной"]},
            ),
        ],
    ),
    "Спорт и отдых": (
        ["Demix", "Torneo", "Nordway", "Outventure", "Kettler"],
        [
            (
                "Гантели разборные",
                (1500, 12000),
                ["гантели", "фитнес", "силовые тренировки"],
                {"Вес": ["2×5 кг", "2×10 кг", "2×20 кг"], "Материал": ["чугун", "винил"]},
            ),
            (
                "Коврик для йоги",
                (600, 4000),
                ["йога", "фитнес"],
                {"Толщина": ["4 мм", "6 мм", "10 мм"], "Материал": ["TPE", "каучук", "NBR"]},
            ),
            (
                "Велосипед горный",
                (15000, 90000),
                ["велосипеды", "активный отдых"],
                {"Диаметр колёс": ['26"', '27.5"', '29"'], "Скоростей": ["21", "24", "27"]},
            ),
            (
                "Палатка туристическая",
                (3000, 35000),
                ["туризм", "кемпинг", "на природу"],
                {
                    "Вместимость": ["2 места", "3 места", "4 места"],
                    "Сезонность": ["летняя", "всесезонная"],
                },
            ),
        ],
    ),
    "Одежда": (
        ["Zarina", "Gloria Jeans", "Befree", "O'stin", "Lime"],
        [
            ("Куртка демисезонная", (3000, 20000), ["куртки", "верхняя одежда"], _SIZE),
            ("Футболка хлопковая", (500, 3000), ["футболки", "базовый гардероб"], _SIZE),
            ("Джинсы прямые", (1500, 7000), ["джинсы", "базовый гардероб"], _SIZE),
            (
                "Рюкзак городской",
                (1200, 9000),
                ["рюкзаки", "аксессуары", "учёба"],
                {"Объём": ["15 л", "20 л", "25 л"], "Отделение для ноутбука": ['15.6"', "нет"]},
            ),
        ],
    ),
    "Обувь": (
        ["Nike", "Adidas", "Asics", "Puma", "Ralf Ringer"],
        [
            ("Кроссовки беговые", (3000, 18000), ["кроссовки", "бег", "спорт"], _SHOE),
            ("Кеды", (1500, 8000), ["кеды", "повседневная обувь"], _SHOE),
            ("Ботинки зимние", (4000, 20000), ["ботинки", "зима"], _SHOE),
        ],
    ),
    "Дом и сад": (
        ["Tefal", "Gardena", "Hoff", "Лемана", "IKEA"],
        [
            (
                "Сковорода антипригарная",
                (900, 6000),
                ["посуда", "кухня"],
                {"Диаметр": ["24 см", "26 см", "28 см"], "Покрытие": ["титановое", "керамическое"]},
            ),
            (
                "Набор садовых инструментов",
                (1200, 7000),
                ["сад", "инструменты", "дача"],
                {"Предметов": ["3", "5", "7"], "Материал": ["сталь", "алюминий"]},
            ),
            (
                "Постельное бельё",
                (1500, 9000),
                ["текстиль", "спальня"],
                {
                    "Размер": ["1.5-спальное", "2-спальное", "евро"],
                    "Ткань": ["сатин", "бязь", "перкаль"],
                },
            ),
        ],
    ),
    "Бытовая техника": (
        ["Bosch", "Philips", "Redmond", "Polaris", "De'Longhi"],
        [
            ("Кофемашина", (12000, 120000), ["кофе", "кухня", "техника для дома"], _POWER),
            (
                "Пылесос робот",
                (9000, 70000),
                ["уборка", "техника для дома", "умный дом"],
                {"Время работы": ["90 мин", "150 мин"], "Влажная уборка": ["да", "нет"]},
            ),
            ("Электрочайник", (1200, 8000), ["кухня", "чайники"], _POWER),
            ("Микроволновая печь", (5000, 25000), ["кухня", "техника для дома"], _POWER),
        ],
    ),
    "Красота": (
        ["L'Oréal", "Nivea", "Garnier", "Natura Siberica", "Braun"],
        [
            ("Фен для волос", (1500, 40000), ["уход за волосами", "фены"], _POWER),
            (
                "Крем для лица увлажняющий",
                (300, 4000),
                ["уход за кожей", "кремы"],
                {"Объём": ["50 мл", "75 мл"], "Тип кожи": ["для всех типов", "сухая", "жирная"]},
            ),
            (
                "Электрическая зубная щётка",
                (1500, 12000),
                ["уход за зубами", "гигиена"],
                {"Режимов": ["2", "3", "5"], "Зарядка": ["индукционная", "USB-C"]},
            ),
        ],
    ),
    "Детские товары": (
        ["LEGO", "Chicco", "Happy Baby", "Hasbro", "Мякиши"],
        [
            (
                "Конструктор",
                (800, 20000),
                ["конструкторы", "игрушки", "развитие"],
                {
                    "Деталей": ["250", "500", "1200"],
                    "Возраст": ["от 6 лет", "от 8 лет", "от 12 лет"],
                },
            ),
            (
                "Коляска прогулочная",
                (8000, 45000),
                ["коляски", "прогулки"],
                {"Вес": ["6.5 кг", "8 кг"], "Складывание": ["книжка", "трость"]},
            ),
            (
                "Мягкая игрушка",
                (400, 3000),
                ["игрушки", "подарки"],
                {"Высота": ["25 см", "40 см", "60 см"], "Материал": ["плюш", "велюр"]},
            ),
        ],
    ),
    "Книги": (
        ["Эксмо", "АСТ", "МИФ", "Альпина Паблишер", "Питер"],
        [
            ("Роман", (400, 1500), ["книги", "художественная литература"], _BOOK),
            (
                "Книга по программированию",
                (900, 4000),
                ["книги", "программирование", "обучение"],
                _BOOK,
            ),
            ("Детская энциклопедия", (600, 2500), ["книги", "детям", "развитие"], _BOOK),
        ],
    ),
    "Умный дом": (
        ["Яндекс", "Aqara", "Sber", "Xiaomi", "TP-Link"],
        [
            ("Умная колонка", (3000, 25000), ["умный дом", "голосовой помощник", "музыка"], _SMART),
            ("Умная лампа", (600, 3000), ["умный дом", "освещение"], _SMART),
            ("Датчик протечки", (800, 3500), ["умный дом", "безопасность"], _SMART),
            ("Умная розетка", (700, 2500), ["умный дом", "энергосбережение"], _SMART),
        ],
    ),
}

_QUALITIES = [
    "надёжный выбор на каждый день",
    "отличное соотношение цены и качества",
    "новинка сезона",
    "хит продаж нашего магазина",
    "модель с расширенной гарантией",
    "выбор покупателей по итогам года",
]
_FEATURES = [
    "Продуманный дизайн и качественные материалы прослужат долгие годы.",
    "Подходит как для дома, так и для поездок и работы.",
    "Производитель даёт официальную гарантию, сервисные центры по всей России.",
    "Комплектация проверена на складе перед отправкой покупателю.",
    "Доставка по Москве и Санкт-Петербургу на следующий день, в регионы — от 2 дней.",
    "Удобное управление и понятная инструкция на русском языке.",
    "Товар сертифицирован и соответствует стандартам ЕАЭС.",
    "Бережная упаковка защищает товар при транспортировке.",
]
_VIEWS = ["вид спереди", "вид сбоку", "вид сзади", "в упаковке"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _product(rng: random.Random, number: int, now: datetime) -> dict[str, Any]:
    category = rng.choice(list(CATALOGUE))
    brands, types = CATALOGUE[category]
    type_name, (low, high), tags, specs = rng.choice(types)
    brand = rng.choice(brands)
    suffix = rng.choice(["", " Pro", " Lite", " Max", " Plus"])
    model = f"{rng.choice('ABCDEFGHKMPRSTXZ')}{rng.randint(1, 99)}{suffix}"
    product_id = str(FIRST_PRODUCT_ID + number)
    name = f"{type_name} {brand} {model}"
    # Prices end in 9 or 90 like real shelves; two decimals like the stores send them.
    amount = round(rng.uniform(low, high), -1) - rng.choice([0.01, 0.1, 1, 10])
    features = rng.sample(_FEATURES, 2)
    description = f"{type_name} {brand} {model} — {rng.choice(_QUALITIES)}. " + " ".join(features)
    created = now - timedelta(days=rng.uniform(1, 720))
    updated = created + (now - created) * rng.random()
    available = 0 if rng.random() < OUT_OF_STOCK_SHARE else rng.randint(1, 500)
    spec_values = {key: rng.choice(values) for key, values in specs.items()}
    spec_values["Страна производства"] = rng.choice(["Россия", "Китай", "Вьетнам", "Германия"])
    n_images = rng.randint(1, 3)
    return {
        "product_id": product_id,
        "name": name,
        "description": description,
        "price": {"amount": round(max(amount, 9.99), 2), "currency": "RUB"},
        "category": category,
        "brand": brand,
        "stock": {"available": available, "reserved": rng.randint(0, 40) if available else 0},
        "sku": f"{''.join(c for c in brand if c.isalnum())[:4].upper()}-{product_id}",
        "tags": [*tags, brand.lower()],
        "images": [
            {
                "url": f"https://cdn.pokupay-vygodno.ru/img/{product_id}/{i + 1}.jpg",
                "alt": f"{name} — {_VIEWS[i]}",
            }
            for i in range(n_images)
        ],
        "specifications": spec_values,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "index": "products",
        "store_id": STORES[number % len(STORES)],
    }


def generate_catalog(
    n: int, seed: int = 42, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `n` realistic Russian products (contract `product`), ids from "100001".

    The same seed and `now` give the same catalogue; a longer catalogue starts with the shorter.
    """
    rng = random.Random(seed)
    moment = now or DEFAULT_NOW
    for number in range(n):
        yield _product(rng, number, moment)


def customers(n: int, seed: int = 42) -> list[dict[str, Any]]:
    """`n` customers with stable ids and preferences (the same customer for any `n`).

    Each has 1-3 favourite categories and a favourite brand in each of them.
    """
    result = []
    for i in range(n):
        customer_id = NAMED_CUSTOMERS[i] if i < len(NAMED_CUSTOMERS) else f"customer-{i + 1:05d}"
        rng = random.Random(f"{seed}:{customer_id}")
        favourites = rng.sample(list(CATALOGUE), rng.randint(1, 3))
        result.append(
            {
                "customer_id": customer_id,
                "email": f"{customer_id.lower()}@example.com",
                "favourite_categories": favourites,
                "favourite_brands": [rng.choice(CATALOGUE[c][0]) for c in favourites],
                # Some customers shop much more than others (a long tail, like real traffic).
                "activity": round(rng.paretovariate(1.5), 3),
            }
        )
    return result


class _Shelf:
    """Products indexed by category and brand, for fast preference-driven picks."""

    def __init__(self, catalog: list[dict[str, Any]], rng: random.Random) -> None:
        self.all = catalog
        self.by_category: dict[str, list[dict[str, Any]]] = {}
        self.by_brand: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for product in catalog:
            self.by_category.setdefault(product["category"], []).append(product)
            key = (product["category"], product.get("brand") or "")
            self.by_brand.setdefault(key, []).append(product)
        # ~2% of the catalogue are "bestsellers" everyone sometimes buys: popular-item noise.
        self.popular = rng.sample(catalog, max(1, len(catalog) // 50))

    def pick(self, rng: random.Random, customer: dict[str, Any]) -> dict[str, Any]:
        roll = rng.random()
        if roll < 0.75:  # 75%: a favourite category, half of those the favourite brand
            i = rng.randrange(len(customer["favourite_categories"]))
            category = customer["favourite_categories"][i]
            brand = customer["favourite_brands"][i]
            pool = self.by_brand.get((category, brand)) if rng.random() < 0.5 else None
            pool = pool or self.by_category.get(category) or self.all
        elif roll < 0.90:  # 15%: bestsellers
            pool = self.popular
        else:  # 10%: anything
            pool = self.all
        return rng.choice(pool)


def generate_traffic(
    catalog: list[dict[str, Any]],
    customers: list[dict[str, Any]],
    seed: int = 42,
    start: datetime | None = None,
    count: int = 1000,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield `count` messages: ("client_events", event) and ("orders", order).

    Sessions are view → add_to_cart → purchase (+ an order) → sometimes a review; customers
    mostly pick products from their favourite categories and brands. Timestamps increase.
    """
    if not catalog or not customers:
        raise ValueError("traffic needs a non-empty catalogue and customer list")
    rng = random.Random(seed)
    shelf = _Shelf(catalog, rng)
    weights = [c.get("activity", 1.0) for c in customers]
    clock = (start or DEFAULT_NOW).astimezone(UTC)
    emitted = 0

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def event(kind: str, user: str, product_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "event_id": new_id(),
            "user_id": user,
            "type": kind,
            "product_id": product_id,
            "timestamp": clock.isoformat().replace("+00:00", "Z"),
            **extra,
        }

    while True:
        customer = rng.choices(customers, weights)[0]
        user = customer["customer_id"]
        session: list[tuple[str, dict[str, Any]]] = []
        for _ in range(rng.randint(1, 4)):
            product = shelf.pick(rng, customer)
            clock += timedelta(seconds=rng.uniform(0.2, 20))
            session.append(("client_events", event("view", user, product["product_id"])))
            in_stock = (product.get("stock") or {}).get("available", 1) > 0
            if not in_stock or rng.random() > 0.35:
                continue
            clock += timedelta(seconds=rng.uniform(1, 60))
            session.append(("client_events", event("add_to_cart", user, product["product_id"])))
            if rng.random() > 0.6:
                continue
            clock += timedelta(seconds=rng.uniform(5, 120))
            quantity = 1 if rng.random() < 0.85 else rng.randint(2, 3)
            session.append(("client_events", event("purchase", user, product["product_id"])))
            session.append(
                (
                    "orders",
                    {
                        "order_id": new_id(),
                        "customer_id": user,
                        "items": [
                            {
                                "product_id": product["product_id"],
                                "quantity": quantity,
                                "price": product["price"]["amount"],
                            }
                        ],
                        "email": customer["email"],
                        "order_date": clock.isoformat().replace("+00:00", "Z"),
                        "state": "created",
                        "timestamp": clock.timestamp(),
                    },
                )
            )
            if rng.random() < 0.3:
                clock += timedelta(hours=rng.uniform(1, 72))
                # Customers like what matches their taste: favourite brands rate higher.
                liked = product.get("brand") in customer["favourite_brands"]
                rating = rng.choice([4, 5, 5]) if liked else rng.choice([2, 3, 4, 5])
                session.append(
                    ("client_events", event("review", user, product["product_id"], rating=rating))
                )
        for message in session:
            yield message
            emitted += 1
            if emitted >= count:
                return
