// Self-hosted Renovate: the settings a trusted Copier template needs.
module.exports = {
  // Lets a repository's `ignoreScripts: false` take effect: Renovate then runs
  // `copier update --skip-answered --defaults --trust --answers-file .copier-answers.yml --vcs-ref vX.Y.Z`.
  // Without --trust, Copier refuses the template (it has migrations, tasks and a Jinja extension).
  allowScripts: true,
  // Use the copier installed on the runner, which has the template's extension beside it:
  //   pipx install copier && pipx inject copier copier-template-extensions
  binarySource: "global",
};
