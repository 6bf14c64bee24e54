"""A stand-in for Kyverno's evaluation of the platform's `policies.kyverno.io` policies.

No Kyverno runs on these machines; CEL does. Every expression is compiled and evaluated by
cel-expr-python, Google's binding of cel-cpp: the CEL team's own C++ implementation, held to the
same conformance suite as cel-go (which Kyverno embeds), with the two extensions Kubernetes turns
on and the policies use (optional types, strings). Chosen over cel-python (a separate pure-Python
implementation) and the cel-rust binding because it is the one that shares cel-go's authors,
specification tests and RE2 regular expressions. `object` and the other inputs are declared
`dyn`, as Kyverno's compiler declares them.

What is Kyverno's and not CEL's is written here from Kyverno's documentation and Kubernetes'
admission semantics, each as a small function:

- matching: `matchConstraints` (resource rules for the kinds the policies name, namespace and
  object label selectors, exclusions) and `matchConditions`;
- autogen: a pod controller is checked as the Pod its template makes (Kyverno rewrites
  `object.spec` to the template's);
- `policies.kyverno.io` PolicyExceptions: `policyRefs` and `matchConditions`;
- Kyverno's CEL functions the policies call, from their documented contracts:
  `verifyImageSignatures(image, attestors)` (the number of verified signatures; here the
  caller says which images are signed) and `generator.Apply(namespace, objects)` (records what
  would be generated);
- Kyverno's resource filters: namespaces Kyverno's configuration skips are never evaluated.
"""

import fnmatch

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

# The resources the platform's policies name, by kind: (API group, plural, namespaced).
RESOURCES = {
    "Pod": ("", "pods", True),
    "Namespace": ("", "namespaces", False),
}
# Kyverno's autogen: the pod template of each controller, by kind.
CONTROLLERS = {
    "Deployment": ("deployments", lambda s: s.get("template")),
    "StatefulSet": ("statefulsets", lambda s: s.get("template")),
    "DaemonSet": ("daemonsets", lambda s: s.get("template")),
    "Job": ("jobs", lambda s: s.get("template")),
    "CronJob": ("cronjobs", lambda s: ((s.get("jobTemplate") or {}).get("spec") or {}).get("template")),
}
POLICY_KINDS = {"ValidatingPolicy", "ImageValidatingPolicy", "GeneratingPolicy"}


class PolicyError(Exception):
    """An expression that does not compile or does not evaluate to what Kyverno expects."""


class Engine:
    """One CEL environment: Kyverno's inputs, declared dyn, and its functions the policies call."""

    def __init__(self, signed=frozenset()):
        self.signed = signed
        self.generated = []
        string_map = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
        self.env = cel.NewEnv(
            variables={
                "object": cel.Type.DYN,
                "oldObject": cel.Type.DYN,
                "request": cel.Type.DYN,
                "namespaceObject": cel.Type.DYN,
                "variables": cel.Type.DYN,
                "images": cel.Type.DYN,
                "attestors": cel.Type.DYN,
                "generator": string_map,
            },
            extensions=[ext_optional.ExtOptional(), ext_strings.ExtStrings()],
            functions=[
                cel.FunctionDecl("verifyImageSignatures", [cel.Overload(
                    "verify_image_signatures", cel.Type.INT, [cel.Type.STRING, cel.Type.List(cel.Type.DYN)],
                    impl=self._verify_image_signatures)]),
                cel.FunctionDecl("Apply", [cel.Overload(
                    "generator_apply", cel.Type.BOOL, [string_map, cel.Type.STRING, cel.Type.List(cel.Type.DYN)],
                    is_member=True, impl=self._apply)]),
            ],
        )

    def _verify_image_signatures(self, image, attestors):
        # Kyverno returns how many signatures verified against the attestors; an image of the
        # caller's `signed` set carries one.
        return 1 if image in self.signed and attestors else 0

    def _apply(self, _generator, namespace, objects):
        self.generated.extend((namespace, o) for o in objects)
        return True

    def compile(self, expression, where):
        try:
            return self.env.compile(expression)
        except Exception as e:  # cel-expr-python raises RuntimeError with the checker's message
            raise PolicyError(f"{where}: does not compile: {e}") from None

    def evaluate(self, compiled, data, where):
        value = compiled.eval(data=data)
        if value.type() == cel.Type.ERROR:
            raise PolicyError(f"{where}: evaluation error: {value.value()}")
        return value.plain_value()


class Policy:
    """A compiled policy: its match, its variables in order and its checks."""

    def __init__(self, engine, doc):
        self.engine = engine
        self.doc = doc
        self.kind = doc["kind"]
        self.name = doc["metadata"]["name"]
        spec = doc.get("spec") or {}
        self.spec = spec
        at = f"{self.kind} {self.name}"
        self.variables = [(v["name"], engine.compile(v["expression"], f"{at} variable {v['name']}"))
                          for v in spec.get("variables") or []]
        self.conditions = [(c["name"], engine.compile(c["expression"], f"{at} matchCondition {c['name']}"))
                           for c in spec.get("matchConditions") or []]
        self.validations = [(v.get("message", ""), v["expression"], engine.compile(v["expression"], f"{at} validation {i}"))
                            for i, v in enumerate(spec.get("validations") or [])]
        self.generate = [engine.compile(g["expression"], f"{at} generate {i}")
                         for i, g in enumerate(spec.get("generate") or [])]
        self.controllers = set(((spec.get("autogen") or {}).get("podControllers") or {}).get("controllers") or [])

    def _data(self, obj, namespace):
        data = {"object": obj, "oldObject": None, "namespaceObject": namespace, "request": {
            "operation": "CREATE", "namespace": (obj.get("metadata") or {}).get("namespace", ""),
        }, "generator": {}}
        if self.kind == "ImageValidatingPolicy":
            globs = [m["glob"] for m in self.spec.get("matchImageReferences") or [] if "glob" in m]
            pod = obj.get("spec") or {}
            data["images"] = {
                field: [c["image"] for c in pod.get(field) or [] if any(fnmatch.fnmatchcase(c["image"], g) for g in globs)]
                for field in ("containers", "initContainers", "ephemeralContainers")
            }
            data["attestors"] = {a["name"]: a for a in self.spec.get("attestors") or []}
        variables = {}
        data["variables"] = variables
        for name, compiled in self.variables:
            variables[name] = self.engine.evaluate(compiled, data, f"{self.kind} {self.name} variable {name}")
        return data

    def matches(self, obj, namespace):
        """Whether the policy's matchConstraints select `obj` (the Pod, for a controller)."""
        constraints = self.spec.get("matchConstraints") or {}
        kind = obj.get("kind")
        if kind not in RESOURCES:
            return False
        group, plural, namespaced = RESOURCES[kind]
        def selects(rule):
            return (group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", [])) and \
                (plural in rule.get("resources", []) or "*" in rule.get("resources", []))
        if not any(selects(r) for r in constraints.get("resourceRules") or []):
            return False
        if any(selects(r) for r in constraints.get("excludeResourceRules") or []):
            return False
        # Kubernetes matches a Namespace's own labels against namespaceSelector.
        ns_labels = labels(obj if kind == "Namespace" else namespace)
        if not selector_matches(constraints.get("namespaceSelector"), ns_labels):
            return False
        return selector_matches(constraints.get("objectSelector"), labels(obj))

    def applies(self, obj, namespace):
        """matchConstraints, then every matchCondition true (an error counts as a refusal)."""
        if not self.matches(obj, namespace):
            return False
        data = self._data(obj, namespace)
        return all(self.engine.evaluate(c, data, f"{self.kind} {self.name} matchCondition {n}") is True
                   for n, c in self.conditions)

    def failures(self, obj, namespace):
        """The (message, expression) of every validation `obj` breaks."""
        data = self._data(obj, namespace)
        out = []
        for message, expression, compiled in self.validations:
            verdict = self.engine.evaluate(compiled, data, f"{self.kind} {self.name}: {expression}")
            if verdict is not True and verdict is not False:
                raise PolicyError(f"{self.kind} {self.name}: {expression} gave {verdict!r}, not a bool")
            if not verdict:
                out.append((message, expression))
        return out

    def generated(self, obj, namespace):
        data = self._data(obj, namespace)
        self.engine.generated = []
        for compiled in self.generate:
            self.engine.evaluate(compiled, data, f"{self.kind} {self.name} generate")
        return self.engine.generated


class PolicyException:
    """A `policies.kyverno.io` PolicyException: the policies it names, when its conditions hold."""

    def __init__(self, engine, doc):
        self.engine = engine
        self.name = doc["metadata"]["name"]
        self.namespace = doc["metadata"].get("namespace")
        spec = doc.get("spec") or {}
        self.refs = [(r.get("kind"), r["name"]) for r in spec.get("policyRefs") or []]
        self.conditions = [engine.compile(c["expression"], f"PolicyException {self.name} matchCondition {c['name']}")
                           for c in spec.get("matchConditions") or []]

    def exempts(self, policy, obj, namespace):
        if not any(name == policy.name and kind in (None, policy.kind) for kind, name in self.refs):
            return False
        data = {"object": obj, "namespaceObject": namespace, "oldObject": None, "request": {}, "variables": {},
                "generator": {}}
        return all(self.engine.evaluate(c, data, f"PolicyException {self.name}") is True for c in self.conditions)


def labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def selector_matches(selector, have):
    """A Kubernetes label selector; an absent or empty one selects everything."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if have.get(key) != value:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and have.get(key) not in values:
            return False
        if op == "NotIn" and key in have and have[key] in values:
            return False
        if op == "Exists" and key not in have:
            return False
        if op == "DoesNotExist" and key in have:
            return False
    return True


def namespace_object(name, known):
    """The Namespace `name` as the API server holds it: the tree's object if it has one, with
    the label Kubernetes sets on every namespace."""
    ns = known.get(name) or {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    ns = {**ns, "metadata": {**ns["metadata"], "labels": {**labels(ns), "kubernetes.io/metadata.name": name}}}
    return ns


def without_nulls(value):
    """What the API server keeps of a manifest: fields written as null are dropped when it
    decodes them, so no policy ever sees one."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def as_pod(obj, controllers):
    """The object as Kyverno's autogen checks it: a Pod as is; a controller named in
    `controllers` as the Pod its template makes; anything else None."""
    obj = without_nulls(obj)
    if obj.get("kind") == "Pod":
        return obj
    if obj.get("kind") not in CONTROLLERS:
        return None
    plural, template_of = CONTROLLERS[obj["kind"]]
    template = template_of(obj.get("spec") or {})
    if plural not in controllers or not template:
        return None
    metadata = dict(template.get("metadata") or {})
    metadata["namespace"] = obj["metadata"].get("namespace")
    metadata.setdefault("name", obj["metadata"]["name"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec") or {}}


def load(engine, docs):
    """The policies and exceptions among `docs`."""
    policies = [Policy(engine, d) for d in docs if d.get("apiVersion", "").startswith("policies.kyverno.io/")
                and d.get("kind") in POLICY_KINDS]
    exceptions = [PolicyException(engine, d) for d in docs if d.get("apiVersion", "").startswith("policies.kyverno.io/")
                  and d.get("kind") == "PolicyException"]
    return policies, exceptions


def verdict(policy, exceptions, obj, namespace):
    """Kyverno's result for `obj`: ("skip", None), ("excepted", name), ("pass", []) or
    ("fail", [(message, expression)...])."""
    if not policy.applies(obj, namespace):
        return "skip", None
    for e in exceptions:
        if e.exempts(policy, obj, namespace):
            return "excepted", e.name
    failed = policy.failures(obj, namespace)
    return ("fail", failed) if failed else ("pass", [])
