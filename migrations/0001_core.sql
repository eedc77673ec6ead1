-- 0001_core: people, places, customers and bookings
-- migrate:up
CREATE TABLE locations (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{1,40}$'),
    name        text NOT NULL,
    bays        int  NOT NULL CHECK (bays > 0),
    address     text NOT NULL,
    parking     text NOT NULL
);

CREATE TABLE facility (
    key         text PRIMARY KEY,
    value       text NOT NULL
);

CREATE TABLE customers (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    phone             text UNIQUE,
    email             text,
    member_number     int UNIQUE,
    membership        text NOT NULL DEFAULT 'none'
                      CHECK (membership IN ('none', 'Standard', 'Club+')),
    membership_renews date,
    credit_cents      int NOT NULL DEFAULT 0,
    hours_left        numeric(6,2) NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL
                  CHECK (role IN ('admin', 'operator', 'support', 'kiosk', 'customer')),
    name          text,
    phone         text,
    customer_id   bigint REFERENCES customers(id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bookings (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers(id),
    location     text NOT NULL REFERENCES locations(slug),
    bay          int NOT NULL CHECK (bay > 0),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
    status       text NOT NULL DEFAULT 'confirmed'
                 CHECK (status IN ('confirmed', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_customer ON bookings (customer_id, starts_at);

-- migrate:down
DROP TABLE bookings;
DROP TABLE users;
DROP TABLE customers;
DROP TABLE facility;
DROP TABLE locations;
