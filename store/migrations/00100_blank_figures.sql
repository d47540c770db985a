-- A blank is not 0 (issue 10). Before this, the project form stored an empty
-- figure as 0 and an unticked declaration as "no", so a draft's zeros and
-- "no"s cannot be told from real answers. Projects still being written
-- (draft, returned) get them back as blanks (JSON null): the promoter must
-- enter each figure and answer each declaration (生态环境分区管控/三线一单,
-- negative list, serious bad credit) explicitly before submitting. Projects
-- past screening keep their stored figures: their reports and decision-log
-- entries were made on them and must stay reproducible.

-- +goose Up
UPDATE projects SET figures = json_set(figures, '$.total_investment', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.total_investment') IN ('integer', 'real', 'false') AND json_extract(figures, '$.total_investment') = 0;
UPDATE projects SET figures = json_set(figures, '$.fixed_asset_investment', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.fixed_asset_investment') IN ('integer', 'real', 'false') AND json_extract(figures, '$.fixed_asset_investment') = 0;
UPDATE projects SET figures = json_set(figures, '$.land_area', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.land_area') IN ('integer', 'real', 'false') AND json_extract(figures, '$.land_area') = 0;
UPDATE projects SET figures = json_set(figures, '$.floor_area', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.floor_area') IN ('integer', 'real', 'false') AND json_extract(figures, '$.floor_area') = 0;
UPDATE projects SET figures = json_set(figures, '$.building_coverage', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.building_coverage') IN ('integer', 'real', 'false') AND json_extract(figures, '$.building_coverage') = 0;
UPDATE projects SET figures = json_set(figures, '$.office_share', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.office_share') IN ('integer', 'real', 'false') AND json_extract(figures, '$.office_share') = 0;
UPDATE projects SET figures = json_set(figures, '$.expected_output', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.expected_output') IN ('integer', 'real', 'false') AND json_extract(figures, '$.expected_output') = 0;
UPDATE projects SET figures = json_set(figures, '$.revenue', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.revenue') IN ('integer', 'real', 'false') AND json_extract(figures, '$.revenue') = 0;
UPDATE projects SET figures = json_set(figures, '$.tax', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.tax') IN ('integer', 'real', 'false') AND json_extract(figures, '$.tax') = 0;
UPDATE projects SET figures = json_set(figures, '$.rd_expense', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.rd_expense') IN ('integer', 'real', 'false') AND json_extract(figures, '$.rd_expense') = 0;
UPDATE projects SET figures = json_set(figures, '$.energy_use', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.energy_use') IN ('integer', 'real', 'false') AND json_extract(figures, '$.energy_use') = 0;
UPDATE projects SET figures = json_set(figures, '$.negative_list', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.negative_list') IN ('integer', 'real', 'false') AND json_extract(figures, '$.negative_list') = 0;
UPDATE projects SET figures = json_set(figures, '$.eco_red_line', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.eco_red_line') IN ('integer', 'real', 'false') AND json_extract(figures, '$.eco_red_line') = 0;
UPDATE projects SET figures = json_set(figures, '$.bad_credit', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.bad_credit') IN ('integer', 'real', 'false') AND json_extract(figures, '$.bad_credit') = 0;
UPDATE projects SET figures = json_set(figures, '$.energy_assessment', json('null'))
  WHERE state IN ('draft', 'returned') AND json_type(figures, '$.energy_assessment') IN ('integer', 'real', 'false') AND json_extract(figures, '$.energy_assessment') = 0;

-- +goose Down
-- Nothing to undo: a blank read by the old code is 0 again.
SELECT 1;
