"""The intake in the admin: download the template, upload a filled one, read the preview
(every row new / duplicate / error with its reasons), choose per flagged row, confirm.
Coordinators (and superusers) import; batches and rows stay visible, read-only."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import is_coordinator
from enterprises.models import IndustryChain
from intake import services
from intake.models import ImportBatch, ImportRow
from intake.workbook import template
from tickets.admin import ReadOnlyAdminMixin
from tickets.errors import WorkflowError

# The most rows a preview page lists at once (a 10,000-row file pages through them).
PREVIEW_PAGE = 200
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=_("清单文件（.xlsx）"))
    work_group = forms.CharField(
        label=_("工作组"),
        required=False,
        max_length=100,
        help_text=_("文件中“工作组”列留空的行记为此工作组。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过 20 MB。"))
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 文件（可先下载导入模板）。"))
        return upload


class CoordinatorOnly(ReadOnlyAdminMixin):
    def has_module_permission(self, request):
        return is_coordinator(request)

    def has_view_permission(self, request, obj=None):
        return is_coordinator(request)


@admin.register(ImportBatch)
class ImportBatchAdmin(CoordinatorOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "file_name",
        "work_group",
        "status",
        "created_by",
        "created_at",
        "total_rows",
        "new_rows",
        "duplicate_rows",
        "error_rows",
        "created_count",
        "merged_count",
        "enterprises_created",
        "open_link",
    ]
    list_filter = ["status"]
    search_fields = ["file_name", "work_group", "=sha256"]
    list_select_related = ["created_by"]
    change_list_template = "admin/intake/importbatch/change_list.html"

    @admin.display(description=_("明细"))
    def open_link(self, batch):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:intake_importbatch_preview", args=[batch.pk]),
            _t("查看"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("template/", view(self.template_view), name="intake_template"),
            path("upload/", view(self.upload_view), name="intake_importbatch_upload"),
            path("<int:pk>/preview/", view(self.preview_view), name="intake_importbatch_preview"),
            path("<int:pk>/confirm/", view(self.confirm_view), name="intake_importbatch_confirm"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:intake_importbatch_preview", args=[object_id]))

    def _guard(self, request):
        if not is_coordinator(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied

    def template_view(self, request):
        self._guard(request)
        chains = list(IndustryChain.objects.order_by("name").values_list("name", flat=True))
        return FileResponse(
            io.BytesIO(template(chains)), as_attachment=True, filename=_t("诉求清单导入模板.xlsx")
        )

    def upload_view(self, request):
        self._guard(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.preview(
                    upload.read(),
                    file_name=upload.name,
                    user=request.user,
                    work_group=form.cleaned_data["work_group"],
                )
            except WorkflowError as error:
                form.add_error("file", error.message)
            else:
                return HttpResponseRedirect(
                    reverse("admin:intake_importbatch_preview", args=[batch.pk])
                )
        return TemplateResponse(
            request,
            "admin/intake/importbatch/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": _("上传工作组清单"),
                "form": form,
                "opts": self.model._meta,
                "template_url": reverse("admin:intake_template"),
            },
        )

    def preview_view(self, request, pk):
        self._guard(request)
        batch = get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)
        rows = batch.rows.select_related("duplicate_of", "ticket", "enterprise").order_by(
            "row_number"
        )
        show = request.GET.get("show", "")
        if show in ImportRow.Status.values:
            rows = rows.filter(status=show)
        page = Paginator(rows, PREVIEW_PAGE).get_page(request.GET.get("page"))
        return TemplateResponse(
            request,
            "admin/intake/importbatch/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("导入批次 #%(pk)s：%(file)s")
                % {"pk": batch.pk, "file": batch.file_name},
                "batch": batch,
                "page": page,
                "show": show,
                "statuses": ImportRow.Status.choices,
                "decisions": ImportRow.Decision.choices,
                "editable": batch.status == ImportBatch.Status.PREVIEW,
                "opts": self.model._meta,
                "confirm_url": reverse("admin:intake_importbatch_confirm", args=[batch.pk]),
            },
        )

    def confirm_view(self, request, pk):
        self._guard(request)
        batch = get_object_or_404(ImportBatch, pk=pk)
        back = reverse("admin:intake_importbatch_preview", args=[batch.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        decisions = {}
        for name, value in request.POST.items():
            if name.startswith("decision-") and name[9:].isdigit():
                decisions[int(name[9:])] = value
        try:
            if decisions:
                services.set_decisions(batch, decisions)
            if request.POST.get("do") == "cancel":
                services.cancel(batch)
                self.message_user(request, _t("已放弃该批次，未创建任何诉求。"), messages.INFO)
                return HttpResponseRedirect(back)
            if request.POST.get("do") == "save":
                self.message_user(request, _t("处理方式已保存。"), messages.SUCCESS)
                return HttpResponseRedirect(back)
            batch = services.confirm(batch, user=request.user)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            _t(
                "导入完成：新建诉求 %(created)s 件，并入已有诉求 %(merged)s 件，"
                "跳过 %(skipped)s 行，新登记企业 %(enterprises)s 家。"
            )
            % {
                "created": batch.created_count,
                "merged": batch.merged_count,
                "skipped": batch.skipped_count,
                "enterprises": batch.enterprises_created,
            },
            messages.SUCCESS,
        )
        if batch.enterprises_created:
            self.message_user(
                request,
                _t("有 %(n)s 家企业此前未登记，已自动登记，请核实其区市与联系人。")
                % {"n": batch.enterprises_created},
                messages.WARNING,
            )
        return HttpResponseRedirect(back)


@admin.register(ImportRow)
class ImportRowAdmin(CoordinatorOnly, admin.ModelAdmin):
    list_display = [
        "batch",
        "row_number",
        "status",
        "decision",
        "outcome",
        "enterprise_label",
        "registers_enterprise",
        "title",
        "reasons",
        "ticket",
    ]
    list_filter = ["status", "outcome", "registers_enterprise", "decision"]
    list_select_related = ["batch", "ticket", "enterprise"]
    search_fields = ["=batch__id", "values__title", "values__uscc"]
    readonly_fields = [f.name for f in ImportRow._meta.fields]

    @admin.display(description=_("企业"))
    def enterprise_label(self, row):
        return row.values.get("enterprise_name", "")

    @admin.display(description=_("标题"))
    def title(self, row):
        return row.values.get("title", "")

    @admin.display(description=_("原因"))
    def reasons(self, row):
        return "；".join(f"{e['column']}：{e['message']}" for e in row.errors)
