-- 001: the favorites list, seeded with twelve breweries of the gold data
-- (ids from data/breweries.csv that survive the silver layer).
CREATE TABLE favorites (
    id INTEGER PRIMARY KEY,
    brewery_id TEXT NOT NULL,
    note TEXT NOT NULL
);

INSERT INTO favorites (brewery_id, note) VALUES
    ('f9a3638e-5b08-4cc2-93a5-bf07da1b1950', 'Austin: the taproom by the lake'),
    ('8de49eb1-b039-4e16-9646-a7184f3d9a4d', 'Grand Rapids: try the porter'),
    ('398bdedf-2326-4c49-840a-9a11167dd41a', 'Portland: long tables, long pours'),
    ('a8e1f980-46f6-42e1-891d-6da33f0279a1', 'Chicago: regional classic'),
    ('bb9d2ebe-f476-492f-80fc-275e69b5220d', 'Galway: red ale by the bay'),
    ('168afe5e-7d67-4459-92bd-78ee9ff29d16', 'Asheville: mountain IPA'),
    ('2205dad7-7d66-401f-8737-6eb4087d804e', 'Portland: sours on Fridays'),
    ('24b99aa4-e600-4110-a26a-6c288814f4bf', 'Kraków: smoked Grodziskie'),
    ('f62e7330-ba45-4d54-9fdd-3a168a6189a7', 'San Francisco: steam beer'),
    ('2d049736-6cdf-484f-8fe6-d6a4caabc400', 'Manchester: cask bitter'),
    ('6a13ffc1-819a-4670-bb12-493a5bc0fd02', 'Denver: big lagers'),
    ('a2d637a5-4eff-46e9-a763-0c4c121dead7', 'San Francisco: hazy pale ale');
