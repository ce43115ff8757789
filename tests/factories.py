"""factory_boy factories shared by the tests."""

import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from enterprises import uscc
from enterprises.models import (
    Department,
    DepartmentMembership,
    District,
    Enterprise,
    EnterpriseAccount,
    IndustryChain,
    IndustryCluster,
    Tier,
)
from tickets.models import Kind, Ticket

_uscc_serial = itertools.count(1)


def next_uscc() -> str:
    # 91 (enterprise, company) + Weihai division 371002 + a 9-character organisation code.
    return uscc.make(f"91371002{next(_uscc_serial):09d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = False


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"d{n}")
    name = factory.Sequence(lambda n: f"区{n}")
    kind = District.Kind.COUNTY


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndustryCluster
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cluster-{n}")
    name = factory.Sequence(lambda n: f"集群{n}")


class LeaderOfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"leader-{n}")
    name = factory.Sequence(lambda n: f"市领导办公室{n}")
    kind = Department.Kind.LEADER_OFFICE
    tier = Tier.LEADER
    email = factory.LazyAttribute(lambda o: f"{o.code}@gov.example")


class CityDepartmentFactory(LeaderOfficeFactory):
    code = factory.Sequence(lambda n: f"city-{n}")
    name = factory.Sequence(lambda n: f"市级单位{n}")
    kind = Department.Kind.BUREAU
    tier = Tier.CITY
    escalates_to = factory.SubFactory(LeaderOfficeFactory)


class DistrictDepartmentFactory(LeaderOfficeFactory):
    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"区级单位{n}")
    kind = Department.Kind.BUREAU
    tier = Tier.DISTRICT
    district = factory.SubFactory(DistrictFactory)
    escalates_to = factory.SubFactory(CityDepartmentFactory)


class ChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndustryChain

    code = factory.Sequence(lambda n: f"chain-{n}")
    name = factory.Sequence(lambda n: f"产业链{n}")
    chief_office = factory.SubFactory(LeaderOfficeFactory)
    lead_department = factory.SubFactory(CityDepartmentFactory)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.LazyFunction(next_uscc)
    name = factory.Sequence(lambda n: f"威海测试企业{n}有限公司")
    district = factory.SubFactory(DistrictFactory)
    credit_grade = "B"
    contact_name = "张经理"
    contact_email = factory.Sequence(lambda n: f"contact{n}@enterprise.example")


def staff_user(department: Department, role: str = "handler", **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    DepartmentMembership.objects.create(user=user, department=department, role=role)
    return user


def enterprise_user(enterprise: Enterprise, **kwargs):
    user = UserFactory(**kwargs)
    EnterpriseAccount.objects.create(user=user, enterprise=enterprise)
    return user


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row; tests that need a real lifecycle go through tickets.workflow."""

    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"WH-2026-{n + 1:06d}")
    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = Kind.DIFFICULTY
    title = factory.Sequence(lambda n: f"诉求{n}")
    description = "需要协调解决的问题。"
    created_at = factory.LazyFunction(timezone.now)
