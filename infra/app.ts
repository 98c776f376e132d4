import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildCutover, DEFAULT_CONFIG, readConfig } from './cutover-app.js';

// `npx cdk synth -c config=FILE`; the file is validated exactly as `cutover config validate` does.
const app = new App();
const file = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG;
const stacks = buildCutover(app, readConfig(file), process.env.CDK_DEFAULT_ACCOUNT);
// cdk-nag runs in every synth unless `-c nag=false`; its findings stop the synth like any validation error.
if (app.node.tryGetContext('nag') !== 'false' && app.node.tryGetContext('nag') !== false) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
void stacks;
app.synth();
