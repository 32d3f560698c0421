// auditbot on Azure, in one resource group: the bot on App Service (Linux, Python 3.11),
// PostgreSQL flexible server, Key Vault for every secret, a user-assigned managed identity
// the bot runs as (no password anywhere: the Azure Bot and Microsoft Graph both sign in
// with it), Application Insights, and the Azure Bot (single tenant) with its Teams channel.
// `atk provision` deploys it with main.parameters.json; docs/deploy.md walks through it.
targetScope = 'resourceGroup'

@description('A short name for this installation, in every resource name: lower-case letters and digits, e.g. "swindon" or "dev".')
@minLength(2)
@maxLength(12)
param resourceSuffix string

@description('The Azure region for everything but the Azure Bot (which is global). UK councils: uksouth or ukwest.')
param location string = resourceGroup().location

@description('The council\'s Entra tenant id (Directory (tenant) ID): the bot serves only this tenant.')
param tenantId string = subscription().tenantId

@description('The client id of the Entra app that calls Microsoft Graph (made by provision, with no client secret: the managed identity signs in for it through a federated credential).')
param graphAppClientId string

@description('The id of the QA SharePoint site where audits are filed (AUDITBOT_SHAREPOINT_SITE).')
param sharePointSiteId string

@description('The title of the tracker list on that site (AUDITBOT_TRACKER_LIST); `auditbot setup sharepoint` makes it.')
param trackerList string = 'audit-tracker'

@description('The mailbox case-of-concern e-mails come from (AUDITBOT_MAIL_SENDER): a shared mailbox. Empty: no e-mail.')
param mailSender string = ''

@description('The Teams app\'s id in the org\'s app catalog (AUDITBOT_TEAMS_APP_ID), written by `atk publish`. Empty until then.')
param teamsAppId string = ''

@description('The policy used when an allocation names none (AUDITBOT_DEFAULT_POLICY).')
param defaultPolicy string = 'swindon'

@description('Tenant ids served besides the bot\'s own, comma separated (AUDITBOT_ALLOWED_TENANTS). Empty: the bot\'s tenant only.')
param allowedTenants string = ''

@description('Where the standing roles file is on the App Service (AUDITBOT_ROLES_FILE); upload it there before the first start.')
param rolesFile string = '/home/site/config/roles.yaml'

@description('A folder of the council\'s own templates/ and policies/ on the App Service (AUDITBOT_CONFIG_DIR). Empty: the shipped ones.')
param configDir string = ''

@description('How much the bot logs (AUDITBOT_LOG_LEVEL): DEBUG, INFO, WARNING or ERROR.')
@allowed(['DEBUG', 'INFO', 'WARNING', 'ERROR'])
param logLevel string = 'INFO'

@description('The council\'s privacy notice for the app (https), for the Teams app package.')
param privacyUrl string

@description('The app\'s terms of use (https), for the Teams app package.')
param termsUrl string

@description('The app\'s support page (https). Empty: the privacy notice.')
param websiteUrl string = ''

@description('The publisher Teams shows (up to 32 characters).')
@maxLength(32)
param developerName string = 'Children\'s Services QA'

@description('The PostgreSQL administrator\'s login name.')
param postgresAdminLogin string = 'auditbot'

@description('The PostgreSQL administrator\'s password: given at provision (SECRET_POSTGRES_ADMIN_PASSWORD in env/.env.<name>.user), kept only in Key Vault.')
@secure()
@minLength(16)
param postgresAdminPassword string

@description('The App Service plan: B1 for a pilot, P0v3 or above for a council\'s whole QA programme.')
param appServiceSku string = 'B1'

@description('The PostgreSQL compute size (Burstable tier).')
param postgresSku string = 'Standard_B1ms'

@description('Days of PostgreSQL backups kept (7 to 35).')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 35

var name = 'auditbot-${resourceSuffix}'
var webAppName = 'auditbot-${resourceSuffix}'
var botDomain = '${webAppName}.azurewebsites.net'
// Built-in role "Key Vault Secrets User": read secret values, nothing else.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: 'log-${name}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: false
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${name}'
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: 'psql-${name}'
  location: location
  sku: { name: postgresSku, tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: backupRetentionDays, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }

  resource database 'databases' = {
    name: 'auditbot'
  }

  // Every connection over TLS, 1.2 or newer.
  resource secureTransport 'configurations' = {
    name: 'require_secure_transport'
    properties: { value: 'on', source: 'user-override' }
  }

  resource minimumTls 'configurations' = {
    name: 'ssl_min_protocol_version'
    properties: { value: 'TLSv1.2', source: 'user-override' }
  }

  // 0.0.0.0 is Azure's "allow Azure services": the App Service's outbound addresses.
  resource azureServices 'firewallRules' = {
    name: 'AllowAzureServices'
    properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
  }
}

resource databaseUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql+asyncpg://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/auditbot?ssl=require'
    contentType: 'AUDITBOT_DATABASE_URL'
  }
}

resource insightsConnection 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'applicationinsights-connection-string'
  properties: {
    value: insights.properties.ConnectionString
    contentType: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: 'asp-${name}'
  location: location
  kind: 'linux'
  sku: { name: appServiceSku }
  properties: { reserved: true }
}

var optionalSettings = concat(
  empty(mailSender) ? [] : [{ name: 'AUDITBOT_MAIL_SENDER', value: mailSender }],
  empty(teamsAppId) ? [] : [{ name: 'AUDITBOT_TEAMS_APP_ID', value: teamsAppId }],
  empty(allowedTenants) ? [] : [{ name: 'AUDITBOT_ALLOWED_TENANTS', value: allowedTenants }],
  empty(configDir) ? [] : [{ name: 'AUDITBOT_CONFIG_DIR', value: configDir }],
  empty(websiteUrl) ? [] : [{ name: 'AUDITBOT_WEBSITE_URL', value: websiteUrl }]
)

resource web 'Microsoft.Web/sites@2023-12-01' = {
  name: webAppName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    // Key Vault references are read as the managed identity.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'PYTHON|3.11'
      // The schema is brought up to date before the bot serves (instances refuse an old one).
      appCommandLine: 'python -m auditbot.cli db upgrade && python -m auditbot.cli serve --host 0.0.0.0 --port 8000'
      alwaysOn: true
      healthCheckPath: '/readyz'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(
        [
          // App Service itself: the port, the build on upload, the start-up probe.
          { name: 'WEBSITES_PORT', value: '8000' }
          { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'true' }
          { name: 'WEBSITE_WARMUP_PATH', value: '/healthz' }
          // The Azure Bot: the bot signs in to the Bot Framework as the managed identity.
          { name: 'MicrosoftAppId', value: identity.properties.clientId }
          { name: 'MicrosoftAppType', value: 'UserAssignedMSI' }
          { name: 'MicrosoftAppTenantId', value: tenantId }
          // The database, its URL (with the password) from Key Vault.
          { name: 'AUDITBOT_DATABASE_URL', value: '@Microsoft.KeyVault(SecretUri=${databaseUrl.properties.secretUri})' }
          { name: 'AUDITBOT_ROLES_FILE', value: rolesFile }
          { name: 'AUDITBOT_DEFAULT_POLICY', value: defaultPolicy }
          { name: 'AUDITBOT_LOG_LEVEL', value: logLevel }
          { name: 'AUDITBOT_LOG_FORMAT', value: 'json' }
          // Microsoft Graph: the Graph app, signed in for by the managed identity.
          { name: 'AUDITBOT_GRAPH_URL', value: 'https://graph.microsoft.com/v1.0' }
          { name: 'AUDITBOT_AUTHORITY', value: '${environment().authentication.loginEndpoint}${tenantId}' }
          { name: 'AUDITBOT_GRAPH_CREDENTIAL', value: 'federated' }
          { name: 'AUDITBOT_CLIENT_ID', value: graphAppClientId }
          { name: 'AUDITBOT_MANAGED_IDENTITY_CLIENT_ID', value: identity.properties.clientId }
          { name: 'AUDITBOT_SHAREPOINT_SITE', value: sharePointSiteId }
          { name: 'AUDITBOT_TRACKER_LIST', value: trackerList }
          // The Teams app package (`auditbot manifest build` on the App Service console).
          { name: 'AUDITBOT_PRIVACY_URL', value: privacyUrl }
          { name: 'AUDITBOT_TERMS_URL', value: termsUrl }
          { name: 'AUDITBOT_DEVELOPER_NAME', value: developerName }
          { name: 'AUDITBOT_BOT_DOMAIN', value: botDomain }
          // Telemetry to Application Insights (the connection string from Key Vault).
          { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: '@Microsoft.KeyVault(SecretUri=${insightsConnection.properties.secretUri})' }
        ],
        optionalSettings
      )
    }
  }
  dependsOn: [vaultReader]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-${name}'
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'S1' }
  properties: {
    displayName: 'Case file audits'
    endpoint: 'https://${botDomain}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppType: 'UserAssignedMSI'
    msaAppTenantId: tenantId
    msaAppMSIResourceId: identity.id
    disableLocalAuth: true
  }

  resource teams 'channels' = {
    name: 'MsTeamsChannel'
    location: 'global'
    properties: {
      channelName: 'MsTeamsChannel'
      properties: { isEnabled: true }
    }
  }
}

// Written to the Agents Toolkit environment by `atk provision` (arm/deploy).
output BOT_ID string = identity.properties.clientId
output BOT_DOMAIN string = web.properties.defaultHostName
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AZURE_WEBAPP_RESOURCE_ID string = web.id
output KEY_VAULT_NAME string = vault.name
