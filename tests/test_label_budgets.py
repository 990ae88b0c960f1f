import util
from meta.config import config_from_args
from run_scripts.label_budgets import budget_rows, markdown_table


def test_budgets_report_the_classes_that_can_form_tasks():
    train = util.database(train=(20, 10)).train  # 20 classes of 10 images
    rows = budget_rows(config_from_args("--train_query=5"), train, ["instances", "classes"], [0.5])
    # Half the instances: 5 labeled images per class, one fewer than K + query = 6.
    assert rows == [("instances", 0.5, 100, 0, 0), ("classes", 0.5, 100, 10, 100)]
    rows = budget_rows(config_from_args("--train_query=4"), train, ["instances"], [0.5])
    assert rows == [("instances", 0.5, 100, 20, 100)]
    table = markdown_table(rows, n_way=5, per_class=5)
    assert "| instances | 50% | 100 | 20 | 100 | yes |" in table
