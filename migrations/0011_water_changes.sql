-- The water a water body loses or gains between two of its versions, for the monitoring
-- figures' "area lost per ward and month" (GET /stats/water-loss). A water body's water
-- is its area, or none once its status is `filled`; delisting alone is not a loss (a
-- record withdrawn as a duplicate took no water away). Written by a trigger on
-- `asset_versions`, in the transaction of the change, so no write path forgets one;
-- small (one row per change of a water body's water), so a figure over it is quick.
CREATE TABLE water_changes (
    asset_id INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    at       TEXT    NOT NULL,
    ward     INTEGER,
    borough  TEXT,
    -- Square metres lost since the version before (negative: gained).
    lost_m2  REAL    NOT NULL,
    PRIMARY KEY (asset_id, version)
);
CREATE INDEX water_changes_at ON water_changes (at);

CREATE TRIGGER water_changes_record AFTER INSERT ON asset_versions
WHEN NEW.layer = 'water_bodies'
BEGIN
    INSERT INTO water_changes (asset_id, version, at, ward, borough, lost_m2)
    SELECT NEW.asset_id, NEW.version, NEW.at, NEW.ward, NEW.borough, d.lost
    FROM (
        SELECT (CASE WHEN p.status = 'filled' THEN 0 ELSE coalesce(p.area_m2, 0) END)
             - (CASE WHEN NEW.status = 'filled' THEN 0 ELSE coalesce(NEW.area_m2, 0) END) AS lost
        FROM asset_versions p
        WHERE p.asset_id = NEW.asset_id
          AND p.version = (SELECT max(version) FROM asset_versions
                            WHERE asset_id = NEW.asset_id AND version < NEW.version)
    ) d
    WHERE abs(d.lost) >= 0.01;
END;

-- The changes already in the register's versions.
INSERT INTO water_changes (asset_id, version, at, ward, borough, lost_m2)
SELECT asset_id, version, at, ward, borough, lost FROM (
    SELECT asset_id, version, at, ward, borough,
           lag(CASE WHEN status = 'filled' THEN 0 ELSE coalesce(area_m2, 0) END)
               OVER (PARTITION BY asset_id ORDER BY version)
         - (CASE WHEN status = 'filled' THEN 0 ELSE coalesce(area_m2, 0) END) AS lost
    FROM asset_versions WHERE layer = 'water_bodies'
)
WHERE lost IS NOT NULL AND abs(lost) >= 0.01;
