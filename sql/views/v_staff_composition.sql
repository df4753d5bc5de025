-- v_staff_composition: 员工构成
-- rule: staff in post (status 在职) counted two ways, one row per group: dimension 部门 (by
--       department) and dimension 学历 (by education; 未填 when not recorded). staff = people in
--       the group; managers = those with is_manager; staff_share = staff / all staff in post of the
--       same community; manager_share = managers / staff of the group (管理人员占比).
--       community_id is the staff member's community (NULL: the head office).
-- source: 一(一)3 员工情况：员工构成，其中管理人员占；学历构成（特别是管理人员）
-- parameters: none
-- 规则：在职员工按部门、按学历各分组一行：人数、其中管理人员数、占全部在职员工的比例、组内管理人员占比。未填学历的计为「未填」；小区为空的是公司本部。
-- 参数：无
-- label community_id: 小区编号
-- label dimension: 分组方式
-- label grp: 分组
-- label staff: 人数
-- label managers: 管理人员
-- label staff_share: 占员工比例
-- label manager_share: 管理人员占比
CREATE OR REPLACE VIEW v_staff_composition AS
WITH in_post AS (
    SELECT s.community_id,
           d.name AS department,
           coalesce(s.education, '未填') AS education,
           coalesce(s.is_manager, false) AS is_manager
    FROM staff s
    LEFT JOIN departments d ON d.id = s.department_id
    WHERE s.deleted_at IS NULL AND coalesce(s.status, '在职') = '在职'
),
grouped AS (
    SELECT community_id, '部门' AS dimension, coalesce(department, '未填') AS grp,
           count(*) AS staff, count(*) FILTER (WHERE is_manager) AS managers
    FROM in_post GROUP BY community_id, coalesce(department, '未填')
    UNION ALL
    SELECT community_id, '学历' AS dimension, education AS grp,
           count(*) AS staff, count(*) FILTER (WHERE is_manager) AS managers
    FROM in_post GROUP BY community_id, education
)
SELECT community_id,
       dimension,
       grp,
       staff,
       managers,
       CAST(staff AS DOUBLE) / sum(staff) OVER (PARTITION BY community_id, dimension) AS staff_share,
       CAST(managers AS DOUBLE) / nullif(staff, 0) AS manager_share
FROM grouped;
