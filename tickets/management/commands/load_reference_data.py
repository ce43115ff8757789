"""Load Weihai's reference data (districts, clusters, departments, chains, SLA policies,
routing rules, working calendar). Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand, CommandError

from tickets import reference_data


class Command(BaseCommand):
    help = (
        "载入威海参考数据（区市、产业集群、责任单位、产业链、时限规则、分派规则、工作日历）。"
        "可重复运行：按代码更新，不产生重复数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help=f"参考数据文件（默认 {reference_data.DEFAULT_PATH}）",
        )
        parser.add_argument(
            "--missing-only",
            action="store_true",
            help="只新增缺少的数据，不覆盖已有数据（保留管理后台的修改，适合部署时运行）。",
        )

    def handle(self, *args, path=None, missing_only=False, **options):
        try:
            result = reference_data.load(path, stdout=self.stdout, missing_only=missing_only)
        except reference_data.ReferenceDataError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("")
        self.stdout.write(reference_data.format_summary(result))
        kept = sum(counts["kept"] for counts in result.values())
        if kept:
            self.stdout.write(
                self.style.WARNING(f"{kept} 条已有数据与文件不同，按 --missing-only 保留了现值。")
            )
        self.stdout.write(self.style.SUCCESS("参考数据已载入。"))
