package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const k8sDir = "kubernetes"

// decodeStrict reads one manifest into its API type, refusing any field the type does not
// have (a misspelt or misplaced key would otherwise vanish silently).
func decodeStrict[T any](t *testing.T, file string) *T {
	t.Helper()
	data, err := yaml.YAMLToJSON(readFile(t, filepath.Join(k8sDir, file)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	// The API server's decoder: field names are case-sensitive, unknown and duplicate
	// fields are errors.
	var v T
	strict, err := kjson.UnmarshalStrict(data, &v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, e := range strict {
		t.Errorf("%s: %v", file, e)
	}
	return &v
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

type manifests struct {
	kust       *kustomization
	ns         *corev1.Namespace
	deploy     *appsv1.Deployment
	pdb        *policyv1.PodDisruptionBudget
	svc        *corev1.Service
	podMonitor map[string]any
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{
		kust:   decodeStrict[kustomization](t, "kustomization.yaml"),
		ns:     decodeStrict[corev1.Namespace](t, "namespace.yaml"),
		deploy: decodeStrict[appsv1.Deployment](t, "callout-deployment.yaml"),
		pdb:    decodeStrict[policyv1.PodDisruptionBudget](t, "callout-pdb.yaml"),
		svc:    decodeStrict[corev1.Service](t, "callout-metrics-service.yaml"),
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(k8sDir, "callout-podmonitor.yaml")), &m.podMonitor); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{m.ns.APIVersion + " " + m.ns.Kind, "v1 Namespace"},
		{m.deploy.APIVersion + " " + m.deploy.Kind, "apps/v1 Deployment"},
		{m.pdb.APIVersion + " " + m.pdb.Kind, "policy/v1 PodDisruptionBudget"},
		{m.svc.APIVersion + " " + m.svc.Kind, "v1 Service"},
		{m.podMonitor["apiVersion"].(string) + " " + m.podMonitor["kind"].(string), "monitoring.coreos.com/v1 PodMonitor"},
		{m.kust.APIVersion + " " + m.kust.Kind, "kustomize.config.k8s.io/v1beta1 Kustomization"},
	} {
		if c.got != c.want {
			t.Errorf("kind %q, want %q", c.got, c.want)
		}
	}
	return m
}

func (m manifests) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := m.deploy.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want the callout alone", len(cs))
	}
	return cs[0]
}

// port resolves a probe's port (a name or a number) to the container port.
func port(t *testing.T, c corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Fatalf("port %q is not a container port", p.StrVal)
	return 0
}

func argValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesManifestsAreConsistent(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	d := m.deploy
	pod := d.Spec.Template
	c := m.container(t)

	// kustomization: every manifest but the operator-only PodMonitor, the image it renames.
	want := []string{"callout-deployment.yaml", "callout-metrics-service.yaml", "callout-pdb.yaml", "namespace.yaml"}
	got := slices.Sorted(slices.Values(m.kust.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %q, want %q", got, want)
	}
	if m.kust.Namespace != m.ns.Name {
		t.Errorf("kustomization namespace %q, Namespace %q", m.kust.Namespace, m.ns.Name)
	}
	if len(m.kust.Images) != 1 || m.kust.Images[0].Name != c.Image {
		t.Errorf("kustomization images %+v do not rename the container image %q", m.kust.Images, c.Image)
	}

	// Two replicas, never both unavailable by choice.
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("a rollout must not stop a replica before its successor is ready (maxUnavailable: 0)")
	}
	if !matches(d.Spec.Selector.MatchLabels, pod.Labels) {
		t.Error("the Deployment's selector does not select its own pods")
	}
	if m.pdb.Spec.MinAvailable == nil || m.pdb.Spec.MinAvailable.IntValue() != 1 || !matches(m.pdb.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("the PodDisruptionBudget must keep 1 of the callout's pods: %+v", m.pdb.Spec)
	}
	if !matches(m.svc.Spec.Selector, pod.Labels) {
		t.Error("the metrics Service does not select the callout's pods")
	}
	spread := pod.Spec.TopologySpreadConstraints
	if len(spread) == 0 || spread[0].TopologyKey != "kubernetes.io/hostname" || spread[0].WhenUnsatisfiable != corev1.DoNotSchedule ||
		spread[0].MaxSkew != 1 || !matches(spread[0].LabelSelector.MatchLabels, pod.Labels) {
		t.Errorf("the replicas must be kept on different nodes: %+v", spread)
	}
	if a := pod.Spec.Affinity; a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Error("no pod anti-affinity between the replicas")
	}

	// The image's user, no privilege, nothing writable.
	sc, csc := pod.Spec.SecurityContext, c.SecurityContext
	df := parseDockerfile(t)
	uid, gid, _ := strings.Cut(commandsOf[*imageUser](df.stages[1])[0].User, ":")
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || strconv.FormatInt(*sc.RunAsUser, 10) != uid ||
		sc.FSGroup == nil || strconv.FormatInt(*sc.FSGroup, 10) != gid {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, the image's user %s and its group %s as fsGroup", sc, uid, gid)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil ||
		*csc.AllowPrivilegeEscalation || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext %+v: want a read-only root, no privilege escalation, all capabilities dropped", csc)
	}
	// The image's defaults and the Deployment agree, so running the image bare behaves alike.
	for _, e := range commandsOf[*instructions.EnvCommand](df.stages[1]) {
		for _, kv := range e.Env {
			for _, ce := range c.Env {
				if ce.Name == kv.Key && ce.Value != kv.Value {
					t.Errorf("the image sets %s=%s, the Deployment %s", kv.Key, kv.Value, ce.Value)
				}
			}
		}
	}
	for _, e := range commandsOf[*instructions.ExposeCommand](df.stages[1]) {
		for _, p := range e.Ports {
			if len(c.Ports) == 0 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != strings.TrimSuffix(p, "/tcp") {
				t.Errorf("the image exposes %s, the Deployment's container port is %v", p, c.Ports)
			}
		}
	}
	if cmd := commandsOf[*instructions.CmdCommand](df.stages[1]); len(cmd) != 1 || !slices.Equal(cmd[0].CmdLine, c.Args) {
		t.Errorf("the image's CMD %v and the Deployment's args %q differ", cmd, c.Args)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Error("the callout never talks to the Kubernetes API: do not mount a service account token")
	}
	drain := time.Duration(mainConsts(t)["shutdownTimeout"])
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= drain {
		t.Errorf("terminationGracePeriodSeconds must exceed the callout's drain (%s)", drain)
	}
	if mem := c.Resources.Limits[corev1.ResourceMemory]; mem.IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests and a memory limit", c.Resources)
	}

	// Flags, listener, probes and scrape target all name what the binary has.
	checkFlags(t, "the container", c.Args)
	listen, ok := argValue(c.Args, "-listen")
	if !ok {
		t.Fatal("the container does not pass -listen; the default (loopback) is unreachable for the kubelet")
	}
	host, p, _ := strings.Cut(listen, ":")
	if host != "" {
		t.Errorf("-listen %s: in a pod the listener must serve every interface", listen)
	}
	listenPort, _ := strconv.Atoi(p)
	probes := map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe}
	wantPath := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}
	for kind, pr := range probes {
		if pr == nil || pr.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", kind)
			continue
		}
		if pr.HTTPGet.Path != wantPath[kind] || int(port(t, c, pr.HTTPGet.Port)) != listenPort {
			t.Errorf("%s probe %s on port %d; the callout serves %s on %d", kind, pr.HTTPGet.Path,
				port(t, c, pr.HTTPGet.Port), wantPath[kind], listenPort)
		}
	}
	ann := pod.Annotations
	if ann["prometheus.io/port"] != strconv.Itoa(listenPort) || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v do not point at /metrics on %d", ann, listenPort)
	}
	ep := m.podMonitor["spec"].(map[string]any)["podMetricsEndpoints"].([]any)[0].(map[string]any)
	if ep["path"] != "/metrics" || int(port(t, c, intstr.FromString(ep["port"].(string)))) != listenPort {
		t.Errorf("PodMonitor endpoint %v does not scrape /metrics on %d", ep, listenPort)
	}
	if sel := m.podMonitor["spec"].(map[string]any)["selector"].(map[string]any)["matchLabels"].(map[string]any); sel["app.kubernetes.io/name"] != pod.Labels["app.kubernetes.io/name"] {
		t.Errorf("PodMonitor selects %v", sel)
	}
	if int(port(t, c, m.svc.Spec.Ports[0].TargetPort)) != listenPort {
		t.Error("the metrics Service targets another port than the callout's")
	}

	// The configuration: the Secret's key, mounted where the callout reads it.
	cfg := configPath(t, c)
	vol, key := secretFor(t, m, cfg)
	if key != secretKey {
		t.Errorf("the Secret key is %q; the guides create it as %q", key, secretKey)
	}
	if vol.Secret.DefaultMode == nil || *vol.Secret.DefaultMode&0o007 != 0 {
		t.Error("the configuration holds seeds: the Secret's files must not be readable by others")
	}
}

// secretKey is the key of the callout configuration in the Secret, as the guides create it.
const secretKey = "callout.json"

// imageUser is the Dockerfile's USER instruction type, named for the manifests' checks.
type imageUser = instructions.UserCommand

// configPath is where the container's callout reads its configuration: -config, or else
// $NATSPING_CALLOUT_CONFIG, the variable the binary documents in its usage.
func configPath(t *testing.T, c corev1.Container) string {
	t.Helper()
	if v, ok := argValue(c.Args, "-config"); ok {
		return v
	}
	usage, _ := exec.Command(calloutBinary(t), "-h").CombinedOutput()
	for _, e := range c.Env {
		if e.Name == "NATSPING_CALLOUT_CONFIG" && bytes.Contains(usage, []byte("$"+e.Name)) {
			return e.Value
		}
	}
	t.Fatal("the container names no configuration (-config or NATSPING_CALLOUT_CONFIG)")
	return ""
}

// secretFor finds the Secret volume and key that appear at path in the container.
func secretFor(t *testing.T, m manifests, file string) (corev1.Volume, string) {
	t.Helper()
	c := m.container(t)
	for _, vm := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok || vm.SubPath != "" {
			continue
		}
		for _, v := range m.deploy.Spec.Template.Spec.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			for _, it := range v.Secret.Items {
				if path.Clean(it.Path) == rel {
					return v, it.Key
				}
			}
			t.Fatalf("the Secret volume %s has no item at %s", v.Name, rel)
		}
	}
	t.Fatalf("no Secret volume is mounted where the callout reads %s", file)
	return corev1.Volume{}, ""
}

// The container as the kubelet starts it (its args and env, the Secret's file at the mount
// path, the memory limit through the downward API), probed the way the probes probe it and
// stopped the way Kubernetes stops it.
func TestKubernetesContainerRunsProbesAndStops(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	c := m.container(t)
	w := newWorld(t)
	root := t.TempDir() // stands for the container's filesystem root
	cfg := configPath(t, c)
	writeConfig(t, filepath.Join(root, cfg), w.doc(t))

	env := baseEnv()
	for _, e := range c.Env {
		switch {
		case e.Name == "NATSPING_CALLOUT_CONFIG":
			env = append(env, e.Name+"="+filepath.Join(root, e.Value))
		case e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil:
			q := c.Resources.Limits[corev1.ResourceName(strings.TrimPrefix(e.ValueFrom.ResourceFieldRef.Resource, "limits."))]
			env = append(env, e.Name+"="+strconv.FormatInt(q.Value(), 10))
		default:
			env = append(env, e.Name+"="+e.Value)
		}
	}
	listen := addr(freePort(t))
	args := slices.Clone(c.Args)
	for i := range args {
		if i > 0 && args[i-1] == "-listen" {
			args[i] = listen // ":8080" in the pod; a free loopback port here
		}
	}
	p := startCallout(t, args, env, listen)
	p.waitFor(t, c.ReadinessProbe.HTTPGet.Path, 200)
	if code, body := p.get(t, c.LivenessProbe.HTTPGet.Path); code != 200 {
		t.Errorf("liveness probe %s answers %d %q", c.LivenessProbe.HTTPGet.Path, code, body)
	}
	if code, _ := p.get(t, m.deploy.Spec.Template.Annotations["prometheus.io/path"]); code != 200 {
		t.Errorf("the scrape path answers %d", code)
	}
	if !strings.Contains(p.stderr.String(), `"config":"`+filepath.Join(root, cfg)+`"`) {
		t.Errorf("the callout did not start on the mounted configuration; log:\n%s", p.stderr.String())
	}
	if status, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				t.Logf("resident memory when ready: %s (memory request %s)", strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")),
					c.Resources.Requests.Memory())
			}
		}
	}
	grace := time.Duration(*m.deploy.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	took, code := p.stop(t, syscall.SIGTERM, grace)
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM; log:\n%s", code, p.stderr.String())
	}
	t.Logf("stopped %s after SIGTERM (grace period %s)", took.Round(time.Millisecond), grace)
}

// kubectl's built-in kustomize renders the directory as `kubectl apply -k` would.
func TestKubernetesKustomizationBuilds(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", k8sDir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	var kinds []string
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Spec struct {
				Template struct {
					Spec corev1.PodSpec `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, obj.Kind)
		if obj.Kind != "Namespace" && obj.Metadata.Namespace != "natsping" {
			t.Errorf("%s lands in namespace %q", obj.Kind, obj.Metadata.Namespace)
		}
		if obj.Kind == "Deployment" {
			img := obj.Spec.Template.Spec.Containers[0].Image
			if !strings.HasSuffix(img, "/natsping-callout:0.0.0") {
				t.Errorf("rendered image %q: the kustomization's images entry did not apply", img)
			}
		}
	}
	slices.Sort(kinds)
	if want := []string{"Deployment", "Namespace", "PodDisruptionBudget", "Service"}; !slices.Equal(kinds, want) {
		t.Errorf("kustomize renders %v, want %v", kinds, want)
	}
}

// The chart values include the fragment from the chart's ConfigMap, under the name the
// helm command gives it, and both guides show those values and the same fragment output.
func TestNATSChartValuesIncludeTheFragment(t *testing.T) {
	t.Parallel()
	var v struct {
		Config struct {
			Merge   map[string]any `json:"merge"`
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			Resolver map[string]any `json:"resolver"`
		} `json:"config"`
	}
	data := readFile(t, filepath.Join(k8sDir, "nats-values.yaml"))
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var includes []string
	for k, val := range v.Config.Merge {
		if strings.HasSuffix(k, "$include") {
			includes = append(includes, val.(string))
		}
	}
	if len(includes) != 1 {
		t.Fatalf("config.merge includes %v, want the natsping fragment", includes)
	}
	setFile := "--set-file 'configMap.merge.data." + strings.ReplaceAll(includes[0], ".", `\.`) + "=" + includes[0] + "'"
	output := "tofu output -raw " + fragmentOutput + " > " + includes[0]
	for _, want := range []string{setFile, output, `resolver = { type = "full", external = true }`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the values' comment does not say %s", want)
		}
	}
	if !v.Config.Cluster.Enabled || v.Config.Cluster.Replicas < 3 {
		t.Errorf("cluster %+v: want a cluster of at least 3 servers", v.Config.Cluster)
	}
	if v.Config.Resolver["enabled"] != true {
		t.Errorf("config.resolver %v: the chart's resolver (and its PVC) must be on for the fragment's external resolver", v.Config.Resolver)
	}
	for _, guide := range []string{"kubernetes", "cluster"} {
		text := string(readFile(t, filepath.Join(repoRoot(t), "templates/guides", guide+".md.tmpl")))
		// The chart values the guide shows are the shipped file's.
		var shown struct {
			Config struct {
				Merge    map[string]any `json:"merge"`
				Resolver map[string]any `json:"resolver"`
			} `json:"config"`
		}
		block := fencedBlock(t, text, "yaml", "$include")
		if err := yaml.Unmarshal([]byte(block), &shown); err != nil {
			t.Fatalf("%s guide: %v", guide, err)
		}
		if !reflect.DeepEqual(shown.Config.Merge, v.Config.Merge) || !reflect.DeepEqual(shown.Config.Resolver, v.Config.Resolver) {
			t.Errorf("%s guide shows config.merge %v and config.resolver %v, the values file has %v and %v", guide,
				shown.Config.Merge, shown.Config.Resolver, v.Config.Merge, v.Config.Resolver)
		}
		// The data source renders the fragment with the chart owning the resolver, into the
		// output the helm command reads.
		hcl := strings.Join(strings.Fields(fencedBlock(t, text, "terraform", "fragment")), " ")
		for _, want := range []string{
			`fragment = true`, `resolver = { type = "full", external = true }`,
			`output "` + fragmentOutput + `" { value = data.natsping_server_config.helm.config }`,
		} {
			if !strings.Contains(hcl, want) {
				t.Errorf("%s guide: the fragment's Terraform does not contain %s:\n%s", guide, want, hcl)
			}
		}
		if !strings.Contains(text, setFile) {
			t.Errorf("%s guide: no %s", guide, setFile)
		}
	}
	example := strings.Join(strings.Fields(string(readFile(t,
		filepath.Join(repoRoot(t), "examples/data-sources/natsping_server_config/data-source.tf")))), " ")
	if want := `resolver = { type = "full", external = true } default_sentinel = natsping_trust.ping.sentinel_jwt fragment = true } ` +
		`output "` + fragmentOutput + `" { value = data.natsping_server_config.helm.config }`; !strings.Contains(example, want) {
		t.Errorf("the data source example does not render the guides' fragment: want %s", want)
	}
}

// fragmentOutput is the name of the Terraform output the guides write the fragment to.
const fragmentOutput = "nats_fragment"

// fencedBlock is the first ```lang block of text that contains marker.
func fencedBlock(t *testing.T, text, lang, marker string) string {
	t.Helper()
	for _, part := range strings.Split(text, "```"+lang+"\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, marker) {
			return block
		}
	}
	t.Fatalf("no %s block containing %q", lang, marker)
	return ""
}

// The guides create the Secret under the name and key the Deployment mounts.
func TestKubernetesGuideCreatesTheSecretTheDeploymentReads(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	vol, key := secretFor(t, m, configPath(t, m.container(t)))
	guide := string(readFile(t, filepath.Join(repoRoot(t), "templates/guides/kubernetes.md.tmpl")))
	for _, want := range []string{
		"create secret generic " + vol.Secret.SecretName, "--from-file=" + key + "=", // kubectl
		`name      = "` + vol.Secret.SecretName + `"`, `"` + key + `" = natsping_trust.`, // Terraform
		`namespace = "` + m.kust.Namespace + `"`, "-n " + m.kust.Namespace,
	} {
		if !strings.Contains(guide, want) {
			t.Errorf("the Kubernetes guide does not contain %q", want)
		}
	}
}
