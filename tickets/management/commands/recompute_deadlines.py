from django.core.management.base import BaseCommand

from tickets.sla import recompute_deadlines


class Command(BaseCommand):
    help = "工作日历或时限规则修改后，重算未办结诉求的时限。Recompute open tickets' deadlines."

    def handle(self, *args, **options):
        self.stdout.write("重算时限 / recomputing deadlines …")
        changed = recompute_deadlines(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"完成 / done: {changed} 件诉求的时限已更新"))
